"""Hosts files, plain domain lists and wildcard lists: what ``formats`` accepts of them (see its
docstring)."""

from __future__ import annotations

import ipaddress

from filters.engine._common import _Handler, _Key, _name_rule, _one_name, _Outcome, _uncomment
from filters.engine.rules import Action, Scope

# --- hosts, domains, wildcard --------------------------------------------------------------

_SINKS = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1"})  # noqa: S104 (addresses read, not bound)
_SINK_ADDRESSES = frozenset(ipaddress.ip_address(address) for address in _SINKS)
_SINKS_TEXT = "only 0.0.0.0, 127.0.0.1, :: and ::1 mean blocked"
_HOSTS_BOILERPLATE = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "local",
        "broadcasthost",
        "0.0.0.0",  # noqa: S104 (a name in a hosts file, not an address we bind)
        "ip6-localhost",
        "ip6-loopback",
        "ip6-localnet",
        "ip6-mcastprefix",
        "ip6-allnodes",
        "ip6-allrouters",
        "ip6-allhosts",
    }
)


def _hosts_handler(action: Action) -> _Handler:
    def handle(line: str) -> _Outcome:
        text = _uncomment(line)
        if not text or text[0] == "!":
            return None
        fields = text.split()
        if len(fields) < 2:
            return "expected an address followed by host names"
        names = [name for name in fields[1:] if name.lower() not in _HOSTS_BOILERPLATE]
        if not names:
            return None
        address = fields[0]
        if address not in _SINKS:
            try:
                parsed = ipaddress.ip_address(address)
            except ValueError:
                return f"not an IP address: {address!r}"
            if parsed not in _SINK_ADDRESSES:
                return f"address {address} is a redirect, not a block: {_SINKS_TEXT}"
        rules: list[_Key] = []
        for name in names:
            rule = _name_rule(name, Scope.EXACT, action)
            if isinstance(rule, str):
                return rule if len(names) == 1 else f"{name}: {rule}"
            rules.append(rule)
        return rules

    return handle


def _domains_handler(scope: Scope, action: Action) -> _Handler:
    def handle(line: str) -> _Outcome:
        text = _uncomment(line)
        if not text or text[0] == "!":
            return None
        if not _one_name(text):
            return "expected one name a line"
        return _name_rule(text, scope, action)

    return handle


def _wildcard_handler(action: Action) -> _Handler:
    def handle(line: str) -> _Outcome:
        text = _uncomment(line)
        if not text or text[0] == "!":
            return None
        if not _one_name(text):
            return "expected one name a line"
        wildcard = text.startswith("*.")
        name = text[2:] if wildcard else text
        if "*" in name:
            if not name.strip("*."):
                return "'*' alone would match every name"
            return "'*' is allowed only as a leading '*.' label"
        rule = _name_rule(name, Scope.SUBTREE, action)
        if wildcard and not isinstance(rule, str) and rule[1] is Scope.EXACT:
            return "an IP address has no subdomains"
        return rule

    return handle
