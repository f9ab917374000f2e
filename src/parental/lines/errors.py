from __future__ import annotations

from parental.kit.errors import BadRequest, Conflict, NotFound, Unauthorized


class InvalidServiceKey(Unauthorized):
    message = "A valid carrier service key is required."


class LineNotFound(NotFound):
    message = "No such line is registered."


class InvalidMsisdn(BadRequest):
    message = "The line number is not a valid number of the carrier."


class ServiceKeyExists(Conflict):
    message = "A service key with this name already exists."
