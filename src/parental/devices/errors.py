from __future__ import annotations

from parental.kit.errors import BadRequest, NotFound, TooManyRequests, Unauthorized


class DeviceNotFound(NotFound):
    message = "No such device."


class InvalidPairingCode(BadRequest):
    message = "The pairing code is wrong, expired or already used."


class PairingLocked(TooManyRequests):
    message = "Too many wrong pairing codes from this network; wait and try again."


class InvalidDeviceToken(Unauthorized):
    message = "The device token is missing, unknown or revoked."
