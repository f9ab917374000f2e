"""Building shapes and fixes from offsets in metres, for the geofence tests."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

from telemetry.geofences.geometry import EARTH_RADIUS_M, Point
from telemetry.locations.fix import Fix, FixSource

ALMATY = Point(43.2389, 76.8897)
CHILD = uuid.UUID("00000000-0000-4000-8000-000000000001")
T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def offset(origin: Point, east_m: float, north_m: float) -> Point:
    """The point ``east_m`` and ``north_m`` from ``origin`` in its local equirectangular plane."""
    ky = EARTH_RADIUS_M * math.pi / 180.0
    kx = ky * math.cos(math.radians(origin.latitude))
    lon = origin.longitude + east_m / kx
    return Point(origin.latitude + north_m / ky, (lon + 180.0) % 360.0 - 180.0)


def destination(origin: Point, bearing_deg: float, distance_m: float) -> Point:
    """The point ``distance_m`` from ``origin`` along the great circle at ``bearing_deg``."""
    lat1, lon1 = math.radians(origin.latitude), math.radians(origin.longitude)
    bearing, angle = math.radians(bearing_deg), distance_m / EARTH_RADIUS_M
    lat2 = math.asin(
        math.sin(lat1) * math.cos(angle) + math.cos(lat1) * math.sin(angle) * math.cos(bearing)
    )
    lon2 = lon1 + math.atan2(
        math.sin(bearing) * math.sin(angle) * math.cos(lat1),
        math.cos(angle) - math.sin(lat1) * math.sin(lat2),
    )
    return Point(math.degrees(lat2), (math.degrees(lon2) + 180.0) % 360.0 - 180.0)


def fix(at: Point, *, seconds: float = 0, accuracy_m: float = 10.0) -> Fix:
    return Fix(
        child_id=CHILD,
        device_id=None,
        fixed_at=T0 + timedelta(seconds=seconds),
        latitude=at.latitude,
        longitude=at.longitude,
        accuracy_m=accuracy_m,
        source=FixSource.GPS,
    )
