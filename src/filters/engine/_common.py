"""What the list readers share: the shape of a line's outcome and how names become rules."""

from __future__ import annotations

from collections.abc import Callable

from filters.engine.normalize import InvalidTarget, normalize_host
from filters.engine.rules import Action, Scope

_MAX_TEXT = 300  # a rejected line's text is cut to this many characters in the report

# A rule to be, as its key: host, scope, path, action (the order of Rule.key).
_Key = tuple[str, Scope, str, Action]
# What a line gave: one rule, several, a rejection reason, or None for a skipped line.
_Outcome = _Key | list[_Key] | str | None
_Handler = Callable[[str], _Outcome]


def _shown(text: str) -> str:
    if not text.isascii():
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _name_rule(raw: str, scope: Scope, action: Action, path: str = "") -> _Key | str:
    """The rule for one name, or why there is none."""
    try:
        host = normalize_host(raw)
    except InvalidTarget as error:
        return f"invalid name: {error.reason}"
    if scope is not Scope.URL and _is_ip(host):
        if scope is Scope.SUBDOMAINS:
            return "an IP address has no subdomains"
        scope = Scope.EXACT
    return (host, scope, path, action)


def _is_ip(host: str) -> bool:
    # normalize_host turns every name whose last label is a number into an IPv4 address.
    return ":" in host or host.rpartition(".")[2].isdigit()


def _uncomment(line: str) -> str:
    cut = line.find("#")
    if cut >= 0:
        line = line[:cut]
    return line.strip()


def _one_name(text: str) -> bool:
    return " " not in text and "\t" not in text
