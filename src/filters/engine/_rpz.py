"""RPZ zone files: what ``formats`` accepts of them (see its docstring)."""

from __future__ import annotations

from filters.engine._common import _name_rule, _Outcome
from filters.engine.rules import Action, ParseReport, Rule, Scope

# --- RPZ -----------------------------------------------------------------------------------

_CLASSES = frozenset({"IN", "CH", "CS", "HS"})
_TTL_CHARS = "0123456789sSmMhHdDwW"
_RPZ_TRIGGERS = frozenset({"rpz-ip", "rpz-client-ip", "rpz-nsdname", "rpz-nsip"})
_RPZ_BLOCK_TARGETS = frozenset({".", "*.", "rpz-drop."})
_RPZ_ACTION_WORDS = frozenset({"*", "rpz-drop", "rpz-passthru", "rpz-tcp-only"})
_LOCAL_DATA = "local data (redirect) not supported"


class _Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _is_ttl(field: str) -> bool:
    return field[0].isdigit() and not field.strip(_TTL_CHARS)


def _zone_name(name: str, origin: str) -> str:
    """``name`` made absolute against ``origin``, lowercase, without the root dot."""
    name = name.lower()
    if name == "@":
        return origin
    if name.endswith("."):
        return name[:-1]
    return f"{name}.{origin}" if origin else name


class _RpzReader:
    """A zone's lines in order; holds the origin, the apex and the last owner between them."""

    def __init__(self, action: Action) -> None:
        self.action = action
        self.origin = ""  # the current $ORIGIN: "" is the root
        self.apex = ""  # stripped from owner names: "" until an SOA or a $ORIGIN sets it
        self.owner: str | None = None
        self.in_parentheses = False

    def __call__(self, line: str) -> _Outcome:
        text = line.partition(";")[0]
        if self.in_parentheses:
            if ")" in text:
                self.in_parentheses = False
            return None
        if not text.strip() or text.lstrip()[0] in "#!":
            return None
        if "(" in text:
            self.in_parentheses = text.count("(") > text.count(")")
            text = text.replace("(", " ").replace(")", " ")
        try:
            return self._record(text)
        except _Rejected as rejected:
            return rejected.reason

    def _record(self, text: str) -> _Outcome:
        fields = text.split()
        if fields[0].startswith("$"):
            return self._directive(fields)
        if text[0] in " \t":
            if self.owner is None:
                raise _Rejected("record without an owner name")
            owner, rest = self.owner, fields
        else:
            owner, rest = fields[0], fields[1:]
            self.owner = owner
        at = 0
        while at < min(len(rest), 2) and (rest[at].upper() in _CLASSES or _is_ttl(rest[at])):
            at += 1
        if at == len(rest):
            raise _Rejected("record without a type")
        rtype, rdata = rest[at].upper(), rest[at + 1 :]
        if rtype == "SOA":
            # The SOA owner is the zone's name, which is also the origin when no $ORIGIN
            # gave one (as a server loading the zone takes it from its configuration).
            self.apex = _zone_name(owner, self.origin)
            if not self.origin:
                self.origin = self.apex
            return None
        if rtype == "NS":
            return None
        name = self._policy_name(owner)
        trigger = name.rpartition(".")[2]
        if trigger in _RPZ_TRIGGERS:
            raise _Rejected(f"{trigger} trigger not supported (only names are)")
        if rtype != "CNAME":
            raise _Rejected(f"{_LOCAL_DATA}: {rtype} record")
        if len(rdata) != 1:
            raise _Rejected("CNAME record without exactly one target")
        target = rdata[0].lower()
        if target in _RPZ_BLOCK_TARGETS:
            action = self.action
        elif target == "rpz-passthru.":
            action = Action.ALLOW
        elif target == "rpz-tcp-only.":
            raise _Rejected("rpz-tcp-only. action not supported")
        elif target in _RPZ_ACTION_WORDS:
            raise _Rejected(f"{_LOCAL_DATA}: CNAME {target} is relative (meant '{target}.'?)")
        else:
            raise _Rejected(f"{_LOCAL_DATA}: CNAME to {rdata[0]}")
        scope = Scope.EXACT
        if name.startswith("*."):
            name, scope = name[2:], Scope.SUBDOMAINS
        if "*" in name:
            if not name.strip("*."):
                raise _Rejected("'*' alone would match every name")
            raise _Rejected("'*' is allowed only as the leftmost label")
        return _name_rule(name, scope, action)

    def _directive(self, fields: list[str]) -> _Outcome:
        directive = fields[0].upper()
        if directive == "$ORIGIN":
            if len(fields) != 2:
                raise _Rejected("$ORIGIN without exactly one name")
            self.origin = _zone_name(fields[1], self.origin)
            if not self.apex:
                self.apex = self.origin
            return None
        if directive == "$TTL":
            return None
        if directive == "$INCLUDE":
            raise _Rejected("$INCLUDE not supported: the included file is not read")
        raise _Rejected(f"{directive} directive not supported")

    def _policy_name(self, owner: str) -> str:
        """The owner name relative to the zone's apex: the name the policy is about."""
        name = _zone_name(owner, self.origin)
        if self.apex:
            if name == self.apex:
                raise _Rejected("record at the zone apex")
            if not name.endswith("." + self.apex):
                raise _Rejected(f"name outside the zone {self.apex}.")
            return name[: -len(self.apex) - 1]
        if not name:
            raise _Rejected("record at the zone apex")
        return name


def _merge_rpz_pairs(rules: list[Rule], report: ParseReport) -> list[Rule]:
    """``name`` and ``*.name`` with the same action: one SUBTREE rule at the first one's place."""
    exact = {(r.host, r.action): i for i, r in enumerate(rules) if r.scope is Scope.EXACT}
    merged: dict[int, Rule] = {}
    dropped: set[int] = set()
    for index, rule in enumerate(rules):
        if rule.scope is not Scope.SUBDOMAINS:
            continue
        other = exact.get((rule.host, rule.action))
        if other is None:
            continue
        first, second = min(index, other), max(index, other)
        merged[first] = Rule(rule.host, Scope.SUBTREE, rule.action, "", rules[first].line)
        dropped.add(second)
        report.accepted -= 1
        report.duplicates += 1
    if not merged:
        return rules
    return [merged.get(i, r) for i, r in enumerate(rules) if i not in dropped]
