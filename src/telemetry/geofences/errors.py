"""Errors of places and geofence events::

NotFound
└── PlaceNotFound           404  no such place, or not one of the caller's children's
BadRequest
└── InvalidPlace            400  a shape, schedule or arrival rule that cannot be a place
Conflict
└── PlaceLimitReached       409  the child has as many places as allowed
"""

from __future__ import annotations

from parental.kit.errors import BadRequest, Conflict, NotFound


class PlaceNotFound(NotFound):
    message = "No such place."


class InvalidPlace(BadRequest):
    message = "This place cannot be tracked."


class PlaceLimitReached(Conflict):
    message = "The child has as many places as allowed; remove one first."
