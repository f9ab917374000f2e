"""Shapes of places and where a fix lies relative to them. Pure: no I/O.

A fix is a point with an uncertainty radius. It is INSIDE a shape only when the whole of that
circle, widened by a margin, lies inside; OUTSIDE only when all of it lies outside; anything
straddling the boundary is UNKNOWN. Callers never let UNKNOWN change what they believe, which
gives the hysteresis band of ``2 * (accuracy + margin)`` around every boundary.

Distances are on a sphere of the Earth's mean radius. Circles use the haversine distance to
their centre. Polygons are rings of latitude/longitude vertices whose edges are straight in
latitude/longitude; the distance from a fix to an edge is measured in a local equirectangular
projection centred on the fix itself, so it is accurate to centimetres for the nearby edges
that decide a fix's containment (the error grows with the square of the distance) and the
inside/outside test is the same for every fix. That is right for places of city scale, which
is why a polygon must fit in a circle of ``MAX_RADIUS_M`` and stay away from the poles.

Hand-written rather than shapely: a ring of at most ``MAX_POLYGON_POINTS`` vertices needs only
point-in-polygon, point-to-segment distance and a segment-crossing check; shapely would still
need this projection, and would be a native dependency on the ingestion hot path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
MIN_RADIUS_M = 50.0  # smaller than a phone's usual accuracy plus the margin: never "inside"
MAX_RADIUS_M = 50_000.0
MAX_POLYGON_POINTS = 100
MAX_POLYGON_LATITUDE = 85.0
MIN_POLYGON_AREA_M2 = 100.0


class Containment(StrEnum):
    INSIDE = "inside"
    OUTSIDE = "outside"
    UNKNOWN = "unknown"


class InvalidShape(ValueError):
    """A shape that cannot be a place; the message says why, for the person drawing it."""


@dataclass(frozen=True, slots=True)
class Point:
    latitude: float
    longitude: float


def _wrap_degrees(delta: float) -> float:
    """A longitude difference brought into [-180, 180), across the antimeridian."""
    return (delta + 180.0) % 360.0 - 180.0


def haversine_m(a: Point, b: Point) -> float:
    """The great-circle distance between two points, in metres."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(_wrap_degrees(b.longitude - a.longitude))
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _check_point(point: Point) -> None:
    if not (math.isfinite(point.latitude) and math.isfinite(point.longitude)):
        raise InvalidShape("coordinates must be finite numbers")
    if not (-90.0 <= point.latitude <= 90.0 and -180.0 <= point.longitude <= 180.0):
        raise InvalidShape("latitude must be within -90..90 and longitude within -180..180")


@dataclass(frozen=True, slots=True)
class Circle:
    center: Point
    radius_m: float

    def __post_init__(self) -> None:
        _check_point(self.center)
        if not MIN_RADIUS_M <= self.radius_m <= MAX_RADIUS_M:
            raise InvalidShape(
                f"the radius must be between {MIN_RADIUS_M:g} and {MAX_RADIUS_M:g} metres"
            )

    def signed_distance_m(self, point: Point) -> float:
        """Distance to the boundary: positive inside, negative outside."""
        return self.radius_m - haversine_m(self.center, point)


XY = tuple[float, float]


def _cross(o: XY, a: XY, b: XY) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(p: XY, a: XY, b: XY) -> bool:
    """``p`` (known to be collinear with a-b) lies within the segment's bounding box."""
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def segments_touch(a: XY, b: XY, c: XY, d: XY) -> bool:
    """Whether segments a-b and c-d share at least one point (crossing, touching, overlapping)."""
    d1, d2 = _cross(c, d, a), _cross(c, d, b)
    d3, d4 = _cross(a, b, c), _cross(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(a, c, d))
        or (d2 == 0 and _on_segment(b, c, d))
        or (d3 == 0 and _on_segment(c, a, b))
        or (d4 == 0 and _on_segment(d, a, b))
    )


def _simple_ring_errors(ring: Sequence[XY]) -> str | None:
    n = len(ring)
    edges = [(ring[i], ring[(i + 1) % n]) for i in range(n)]
    if any(a == b for a, b in edges):
        return "two consecutive points are the same"
    for i, (a, b) in enumerate(edges):
        c = edges[(i + 1) % n][1]
        if (
            _cross(a, b, c) == 0
            and (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1]) < 0
        ):
            return "an edge folds back onto the one before it"
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # adjacent through the closing edge
            if segments_touch(a, b, *edges[j]):
                return "the edges cross or touch each other; draw the outline without crossings"
    return None


def _area(ring: Sequence[XY]) -> float:
    return abs(
        sum(_cross((0.0, 0.0), ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring)))
    )


@dataclass(frozen=True)
class Polygon:
    """A simple ring of 3 to ``MAX_POLYGON_POINTS`` vertices (not closed: the last vertex
    joins the first). Build it with ``polygon()``, which validates it."""

    vertices: tuple[Point, ...]
    bound_center: Point = field(init=False, repr=False, compare=False)
    bound_radius_m: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        first = self.vertices[0].longitude
        # Longitudes unwrapped around the first vertex, so a ring across 180° stays contiguous.
        lons = [first + _wrap_degrees(v.longitude - first) for v in self.vertices]
        lats = [v.latitude for v in self.vertices]
        center = Point((min(lats) + max(lats)) / 2, _wrap_degrees((min(lons) + max(lons)) / 2))
        object.__setattr__(self, "bound_center", center)
        radius = max(haversine_m(center, v) for v in self.vertices)
        object.__setattr__(self, "bound_radius_m", radius)

    def project(self, origin: Point) -> list[XY]:
        """The vertices in metres east and north of ``origin`` (equirectangular at its
        latitude): an affine map of latitude/longitude, so straight edges stay straight."""
        ky = EARTH_RADIUS_M * math.pi / 180.0
        kx = ky * math.cos(math.radians(origin.latitude))
        return [
            (
                kx * _wrap_degrees(v.longitude - origin.longitude),
                ky * (v.latitude - origin.latitude),
            )
            for v in self.vertices
        ]

    def signed_distance_m(self, point: Point) -> float:
        """Distance to the boundary: positive inside, negative outside.

        In the plane centred on ``point``: the nearest point of each edge, and the even-odd
        rule for a ray towards +x (a point exactly on an edge may go either way; its distance
        is 0, UNKNOWN to every caller). One loop: this runs for every fix near a polygon.
        """
        ring = self.project(point)
        nearest2 = math.inf
        inside = False
        ax, ay = ring[-1]
        for bx, by in ring:
            dx, dy = bx - ax, by - ay
            length2 = dx * dx + dy * dy
            t = 0.0 if length2 == 0 else min(1.0, max(0.0, -(ax * dx + ay * dy) / length2))
            px, py = ax + t * dx, ay + t * dy
            nearest2 = min(nearest2, px * px + py * py)
            if (ay > 0) != (by > 0) and ax - ay * dx / dy > 0:
                inside = not inside
            ax, ay = bx, by
        nearest = math.sqrt(nearest2)
        return nearest if inside else -nearest


Shape = Circle | Polygon


def polygon(points: Sequence[Point]) -> Polygon:
    """A validated polygon: the ring may be given closed (last point = first) or open."""
    vertices = list(points)
    if len(vertices) > 1 and vertices[0] == vertices[-1]:
        vertices.pop()
    if not 3 <= len(vertices) <= MAX_POLYGON_POINTS:
        raise InvalidShape(f"a polygon needs 3 to {MAX_POLYGON_POINTS} distinct points")
    for vertex in vertices:
        _check_point(vertex)
        if abs(vertex.latitude) > MAX_POLYGON_LATITUDE:
            raise InvalidShape(f"polygons must lie within {MAX_POLYGON_LATITUDE:g}° of the equator")
    shape = Polygon(tuple(vertices))
    if shape.bound_radius_m > MAX_RADIUS_M:
        raise InvalidShape(f"a polygon must fit in a circle of {MAX_RADIUS_M:g} metres")
    ring = shape.project(shape.bound_center)
    problem = _simple_ring_errors(ring)
    if problem is not None:
        raise InvalidShape(problem)
    if _area(ring) / 2 < MIN_POLYGON_AREA_M2:
        raise InvalidShape(f"the polygon must cover at least {MIN_POLYGON_AREA_M2:g} m²")
    return shape


def containment(shape: Shape, point: Point, band_m: float) -> Containment:
    """Where a fix at ``point`` lies when anything within ``band_m`` of it may be true."""
    if isinstance(shape, Polygon):
        # Cheap rejection of fixes far from the place: no point of it is nearer than ``gap``.
        # The slack covers the projection's error, so this never decides otherwise than below.
        gap = haversine_m(shape.bound_center, point) - shape.bound_radius_m
        if gap >= band_m * 1.01 + 1.0:
            return Containment.OUTSIDE
    return classify_distance(shape.signed_distance_m(point), band_m)


def classify_distance(distance_m: float, band_m: float) -> Containment:
    """INSIDE or OUTSIDE when the signed distance to the boundary clears the band, else UNKNOWN."""
    if distance_m > 0 and distance_m >= band_m:
        return Containment.INSIDE
    if distance_m < 0 and -distance_m >= band_m:
        return Containment.OUTSIDE
    return Containment.UNKNOWN
