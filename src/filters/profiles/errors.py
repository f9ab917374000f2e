from __future__ import annotations

from parental.kit.errors import BadRequest, NotFound


class UnknownCategory(BadRequest):
    message = "No such category."


class InvalidSchedule(BadRequest):
    message = "A scheduled category needs at least one window."


class InvalidEntry(BadRequest):
    message = "The entry is not a valid name, or its expiry has already passed."


class EntryNotFound(NotFound):
    message = "No such entry in this profile."
