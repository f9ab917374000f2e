"""What a blocklist says, once parsed: rules over hosts, subtrees and URL prefixes.

A rule is independent of its source's format. ``host`` is normalised (lowercase A-labels, no
trailing dot; IP literals in canonical form), and ``path`` (URL rules only) is a normalised path
prefix starting with ``/``.

Matching semantics, shared by every format:
- ``EXACT`` matches the name only (hosts files);
- ``SUBTREE`` matches the name and every subdomain (``||name^``, ``*.name`` wildcard lists,
  UT1 domains);
- ``SUBDOMAINS`` matches every subdomain but not the name itself (RPZ ``*.name`` without a
  record for ``name``);
- ``URL`` matches the host (and its subdomains, as squidGuard does) when the request path
  starts with ``path`` at a segment boundary.
The most specific match wins; an ``ALLOW`` beats a ``BLOCK`` at the same or a broader level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    BLOCK = "block"
    ALLOW = "allow"


class Scope(StrEnum):
    EXACT = "exact"
    SUBTREE = "subtree"
    SUBDOMAINS = "subdomains"
    URL = "url"


@dataclass(frozen=True, slots=True)
class Rule:
    host: str
    scope: Scope
    action: Action = Action.BLOCK
    path: str = ""
    line: int = 0  # where it stood in its source, 1-based; 0 when not from a file

    @property
    def key(self) -> tuple[str, Scope, str, Action]:
        """Two rules with the same key are duplicates, whatever line they came from."""
        return (self.host, self.scope, self.path, self.action)


# How a snapshot file stores scopes and actions (and the native engine reads them).
SCOPE_CODES = {Scope.EXACT: 0, Scope.SUBTREE: 1, Scope.SUBDOMAINS: 2, Scope.URL: 3}
SCOPES = {code: scope for scope, code in SCOPE_CODES.items()}
ACTION_CODES = {Action.BLOCK: 0, Action.ALLOW: 1}
ACTIONS = {code: action for action, code in ACTION_CODES.items()}


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where rules came from: a source and the version of it that was compiled."""

    id: str
    name: str
    version: str


class Format(StrEnum):
    HOSTS = "hosts"
    DOMAINS = "domains"  # plain names, one a line: exact or subtree is the source's choice
    WILDCARD = "wildcard"
    ADBLOCK = "adblock"
    RPZ = "rpz"
    UT1_DOMAINS = "ut1-domains"
    UT1_URLS = "ut1-urls"


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    text: str
    reason: str


@dataclass
class ParseReport:
    """What an import read: every line is accepted, a duplicate, a comment/blank or rejected."""

    format: Format
    lines_read: int = 0
    accepted: int = 0
    duplicates: int = 0
    skipped: int = 0  # comments, blank lines, headers
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)
