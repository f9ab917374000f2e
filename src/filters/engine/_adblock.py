"""AdBlock / AdGuard rules: what ``formats`` accepts of them (see its docstring)."""

from __future__ import annotations

from filters.engine._common import _Handler, _name_rule, _one_name, _Outcome
from filters.engine.rules import Action, Scope

# --- AdBlock -------------------------------------------------------------------------------

_SCHEMES = ("http:", "https:", "ws:", "wss:")


def _is_adblock_header(text: str) -> bool:
    lowered = text.lower()
    return "adblock" in lowered or "adguard" in lowered or "ublock" in lowered


def _is_cosmetic(text: str) -> bool:
    """``##sel``, ``#@#sel``, ``#?#sel``, ``#$#sel``, ``#%#sel`` (with or without domains)."""
    at = text.find("#")
    while at >= 0:
        end = at + 1
        if text.startswith("@", end):
            end += 1
        if text[end : end + 1] in ("?", "$", "%"):
            end += 1
        if text.startswith("#", end) and text[end + 1 : end + 2] not in ("", " ", "\t", "#"):
            return True
        at = text.find("#", at + 1)
    return False


def _adblock_handler(action: Action) -> _Handler:
    def handle(line: str) -> _Outcome:
        text = line.strip()
        if not text:
            return None
        first = text[0]
        if first == "!":
            return "!#include directive not supported" if text.startswith("!#include") else None
        if first == "[" and text[-1] == "]" and _is_adblock_header(text):
            return None
        if "#" in text:
            if _is_cosmetic(text):
                return "cosmetic rule: nothing to apply at DNS level"
            if first == "#":
                return None
        if "$$" in text or "$@$" in text:
            return "HTML filtering rule: nothing to apply at DNS level"
        allow = text.startswith("@@")
        if allow:
            text = text[2:]
        if text.startswith("/") and len(text) > 1:
            if text.endswith("/") or "/$" in text:
                return "regular expression rules not supported"
            return "rule with a path: DNS sees only the host name"
        pattern, dollar, options = text.partition("$")
        if dollar:
            if not options.strip():
                return "empty modifier list after '$'"
            unsupported = [
                o.strip() for o in options.split(",") if o.strip().lower() != "important"
            ]
            if unsupported:
                return "unsupported modifier: " + ", ".join(o or "(empty)" for o in unsupported)
        return _adblock_pattern(pattern, Action.ALLOW if allow else action)

    return handle


def _adblock_pattern(pattern: str, action: Action) -> _Outcome:
    if not _one_name(pattern):
        return "unexpected blank inside the rule"
    if pattern.startswith("||"):
        body, start = pattern[2:], "||"
    elif pattern.startswith("|"):
        body, start = pattern[1:], "|"
    else:
        body, start = pattern, ""
    if "://" in body or body.lower().startswith(_SCHEMES):
        return "rule with a scheme: DNS sees only the host name"
    end_anchor = False
    if body.endswith("|"):
        body, end_anchor = body[:-1], True
    if body.endswith("^"):
        body, end_anchor = body[:-1], True
    if "/" in body:
        return "rule with a path: DNS sees only the host name"
    if "^" in body or "|" in body:
        return "separator inside the pattern"
    subdomains = False
    if body.startswith("*.") and start != "|":
        body, subdomains = body[2:], True
    elif body.startswith(".") and not start:
        body, subdomains = body[1:], True
    if "*" in body:
        if not body.strip("*."):
            return "'*' alone would match every name"
        return "wildcard inside the name not supported"
    if not body:
        return "empty pattern"
    if subdomains:
        scope = Scope.SUBDOMAINS
    elif start == "|":
        scope = Scope.EXACT
    elif start == "||" or end_anchor:
        scope = Scope.SUBTREE
    else:
        scope = Scope.EXACT  # a bare name: AdGuard Home reads it as a hosts-style exact rule
    return _name_rule(body, scope, action)
