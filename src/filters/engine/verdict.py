"""What the engine answers about a name: the action, the categories, and the rule that decided.

Kept apart from ``matcher``, which decides, so that the native engine (``_accel``) can be handed
these classes without importing the matcher and the snapshot it reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from filters.engine.rules import Action, Scope, SourceRef


@dataclass(frozen=True, slots=True)
class Decider:
    """The rule that decided, with the listed name it was found on."""

    host: str
    scope: Scope
    action: Action
    path: str
    source: SourceRef


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    categories: tuple[str, ...]
    rule: Decider | None


ALLOW_UNLISTED = Decision(Action.ALLOW, (), None)
