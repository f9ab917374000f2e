from __future__ import annotations

from parental.kit.errors import BadRequest, Conflict, Forbidden, NotFound


class ChildNotFound(NotFound):
    message = "No such child."


class LineNotRegistered(BadRequest):
    message = (
        "This number is not registered by the carrier as an active child SIM under your contract."
    )


class LineTaken(Conflict):
    message = "A child is already registered on this line."


class NotAMinor(BadRequest):
    message = "Monitoring is only for children under 18."


class InvalidBirthdate(BadRequest):
    message = "The birthdate is in the future."


class UnknownTimezone(BadRequest):
    message = "Unknown IANA time zone."


class MonitoringInactive(Forbidden):
    message = (
        "Monitoring does not apply to this child now (18 or older, or the line is not an "
        "active child SIM under your contract)."
    )
