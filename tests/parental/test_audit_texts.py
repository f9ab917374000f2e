"""Every audit action the code writes where a child may read it has its own line in the child's
transparency feed (``parental.consent.texts``), so the feed never shows a raw key.

Found by reading the source (``src/``), not by running it, so an action on a path no test
takes is checked too: the action strings given as ``action=`` or to the functions that write
audit rows (``audit.record``, and the wrappers the routers call: ``changed``, ``did``,
``audited``, ``viewed``, ...), both branches of a conditional included. Two kinds of call write
rows no child reads, and need no text: ``audit.record`` without ``child_visible=True`` (the
audit service's default) and a staff member's ``staff.record`` (the staff's own log). An action
built at run time (``f"command.{kind}"``) needs a text for its area.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from parental.consent import texts

SRC = Path(__file__).parents[2] / "src"
ACTION = re.compile(r"^[a-z_]+\.[a-z_]+$")
WRITERS = {"record", "_record", "audit", "changed", "did", "audited", "viewed", "monitored_read"}


@dataclass(frozen=True)
class Written:
    action: str  # the literal action, or an f-string's leading "area."
    where: str
    dynamic: bool
    staff_only: bool  # written only to logs no child reads


def _branches(node: ast.expr) -> Iterator[ast.expr]:
    if isinstance(node, ast.IfExp):
        yield from _branches(node.body)
        yield from _branches(node.orelse)
    else:
        yield node


def _staff_only(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
        return False
    if (func.value.id, func.attr) == ("staff", "record"):
        return True
    if (func.value.id, func.attr) != ("audit", "record"):
        return False
    visible = [kw.value for kw in call.keywords if kw.arg == "child_visible"]
    return all(isinstance(v, ast.Constant) and v.value is False for v in visible)


def written() -> list[Written]:
    found: list[Written] = []
    for path in sorted(SRC.rglob("*.py")):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            candidates = [kw.value for kw in call.keywords if kw.arg == "action"]
            if name in WRITERS:
                candidates += call.args
            where = f"{path.relative_to(SRC)}:{call.lineno}"
            for candidate in candidates:
                for node in _branches(candidate):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str):
                        if ACTION.match(node.value):
                            found.append(Written(node.value, where, False, _staff_only(call)))
                    elif isinstance(node, ast.JoinedStr) and node.values:
                        head = node.values[0]
                        if isinstance(head, ast.Constant) and re.match(r"^[a-z_]+\.$", head.value):
                            found.append(Written(head.value, where, True, _staff_only(call)))
    return found


def test_the_scan_finds_the_actions_it_is_meant_to() -> None:
    """Guards the scan itself: literals, both branches of a conditional, an f-string, the
    staff's log and the child-visible writers are all recognised."""
    by_action = {w.action: w for w in written()}
    assert not by_action["screen_time_request.created"].staff_only  # device.did(...)
    assert not by_action["places.created"].staff_only  # keeper.record(...)
    assert not by_action["child.stepped_down"].staff_only  # child_visible=True
    assert by_action["consent.withdrawn"].action == "consent.withdrawn"  # "a" if x else "b"
    assert by_action["command."].dynamic
    assert by_action["app_catalogue.app_saved"].staff_only
    assert by_action["auth.sign_in"].staff_only
    assert len(by_action) > 60


def test_every_action_a_child_may_read_has_a_text() -> None:
    missing = sorted(
        {
            f"{w.action} ({w.where})"
            for w in written()
            if not w.staff_only
            and (
                texts.AREAS.get(w.action.rstrip(".")) is None
                if w.dynamic
                else w.action not in texts.ACTIONS
            )
        }
    )
    assert missing == []
