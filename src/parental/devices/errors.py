from __future__ import annotations

from parental.kit.errors import BadRequest, NotFound, Unauthorized


class DeviceNotFound(NotFound):
    message = "No such device."


class InvalidPairingCode(BadRequest):
    message = "The pairing code is wrong, expired or already used."


class InvalidDeviceToken(Unauthorized):
    message = "The device token is missing, unknown or revoked."
