from __future__ import annotations

from typing import ClassVar

from parental.kit.errors import AppError, BadRequest, Conflict, Forbidden, Gone, NotFound


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


class MonitoringEndedAdult(Gone):
    """Monitoring stopped for good: the child turned 18 (in the child's zone). Unlike the
    reasons of ``MonitoringInactive``, nothing the family or the carrier does brings it back."""

    message = "The child turned 18: monitoring has ended."


class MonitoringInactive(Forbidden):
    message = (
        "Monitoring does not apply to this child now (the line is not an active child SIM "
        "under your contract)."
    )
    # Every check that refuses with this refuses a child of 18 with MonitoringEndedAdult
    # instead (``children.service.require_monitoring``): a route declaring one declares both.
    declared_with: ClassVar[tuple[type[AppError], ...]] = (MonitoringEndedAdult,)
