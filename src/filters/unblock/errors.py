from __future__ import annotations

from parental.kit.errors import BadRequest, Conflict, NotFound


class UnblockRequestNotFound(NotFound):
    message = "No such unblock request."


class UnblockRequestAlreadyDecided(Conflict):
    message = "This unblock request has already been decided."


class InvalidUnblockDecision(BadRequest):
    message = "allow_for needs exactly one of duration_minutes or until, in the future."
