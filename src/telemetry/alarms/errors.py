"""Errors of the alarms domain::

BadRequest (kit)
├── InvalidImei           the check digit is wrong
└── ObservedInFuture      a handset report from later than the server's clock allows
"""

from __future__ import annotations

from parental.kit.errors import BadRequest


class InvalidImei(BadRequest):
    message = "The IMEI's check digit (Luhn) is wrong."


class ObservedInFuture(BadRequest):
    message = "observed_at is later than now (beyond the allowed clock skew)."
