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


class LineInactive(Conflict):
    message = "The line is registered as inactive; it holds no address."


class InvalidBindingAddress(BadRequest):
    message = "The address must be an IPv4 address or an IPv6 prefix of /32 to /128."


class SessionMismatch(Conflict):
    message = "This session id is already bound to another line or address."


class BindingNotFound(NotFound):
    message = "No live binding holds this address."
