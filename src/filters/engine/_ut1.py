"""UT1 (squidGuard) URL lists and usage files: what ``formats`` accepts (see its docstring)."""

from __future__ import annotations

from pathlib import Path

from filters.engine._common import (
    _Handler,
    _is_ip,
    _name_rule,
    _one_name,
    _Outcome,
)
from filters.engine.normalize import InvalidTarget, normalize_path
from filters.engine.rules import Action, Scope

# --- UT1 -----------------------------------------------------------------------------------

_WEB_PREFIXES = frozenset({"www", "web", "ftp"})


def _without_web_prefix(host: str) -> str:
    """``www2.example.com`` -> ``example.com``, as squidGuard reads URL lists."""
    label, dot, rest = host.partition(".")
    if dot and "." in rest and label.rstrip("0123456789") in _WEB_PREFIXES:
        return rest
    return host


def _ut1_urls_handler(action: Action) -> _Handler:
    def handle(line: str) -> _Outcome:
        text = line.strip()
        if not text or text[0] in "#!":
            return None
        if not _one_name(text):
            return "expected one URL a line"
        if "://" in text:
            return "URL with a scheme: UT1 URL rules are host[/path]"
        host, slash, path = text.partition("/")
        rule = _name_rule(host, Scope.URL, action)
        if isinstance(rule, str):
            return rule
        host = rule[0]
        is_ip = _is_ip(host)
        if not is_ip:
            host = _without_web_prefix(host)
        if slash:
            try:
                path = normalize_path("/" + path)
            except InvalidTarget as error:
                return f"invalid path: {error.reason}"
        if path in ("", "/"):
            return (host, Scope.EXACT if is_ip else Scope.SUBTREE, "", action)
        return (host, Scope.URL, path, action)

    return handle


def _ut1_usage(path: Path) -> Action:
    if not path.is_file():
        raise ValueError(f"{path} is missing: cannot tell a block list from an allow list")
    words = set(path.read_text("utf-8", "replace").lower().split())
    if ("white" in words) == ("black" in words):
        raise ValueError(f"{path} should say 'black' or 'white', and only one of them")
    return Action.ALLOW if "white" in words else Action.BLOCK
