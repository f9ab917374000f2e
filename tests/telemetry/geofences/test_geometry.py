"""Circles and polygons: distances to the boundary, containment with accuracy and margin, and
which rings can be places."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry.geofences.geometry import (
    MAX_POLYGON_POINTS,
    Circle,
    Containment,
    InvalidShape,
    Point,
    Polygon,
    classify_distance,
    containment,
    haversine_m,
    polygon,
)
from tests.telemetry.geofences.helpers import ALMATY, destination, offset

latitudes = st.floats(min_value=-60, max_value=70)
longitudes = st.floats(min_value=-180, max_value=180, exclude_max=True)
centers = st.builds(Point, latitudes, longitudes)
bearings = st.floats(min_value=0, max_value=360)
bands = st.floats(min_value=0, max_value=3000)


def square(center: Point, half_side_m: float) -> Polygon:
    s = half_side_m
    return polygon([offset(center, x, y) for x, y in ((-s, -s), (s, -s), (s, s), (-s, s))])


@st.composite
def star_polygons(draw: st.DrawFn) -> tuple[Point, Polygon]:
    """A ring with vertices at increasing angles around a centre, each gap under 180°: simple
    and around the centre by construction."""
    center = draw(centers)
    n = draw(st.integers(min_value=3, max_value=40))
    gaps = draw(st.lists(st.floats(1, 1.9), min_size=n, max_size=n))
    start = draw(st.floats(0, 2 * math.pi))
    angles = [start + 2 * math.pi * sum(gaps[:i]) / sum(gaps) for i in range(n)]
    radii = draw(st.lists(st.floats(200, 3000), min_size=n, max_size=n))
    points = [
        offset(center, r * math.cos(a), r * math.sin(a)) for r, a in zip(radii, angles, strict=True)
    ]
    return center, polygon(points)


@given(centers, bearings, st.floats(0, 60_000), st.floats(50, 50_000))
def test_a_circles_signed_distance_is_radius_minus_distance(
    center: Point, bearing: float, distance: float, radius: float
) -> None:
    point = destination(center, bearing, distance)
    assert Circle(center, radius).signed_distance_m(point) == pytest.approx(
        radius - distance, abs=1e-6 * (radius + distance) + 1e-6
    )


@given(
    centers,
    st.floats(100, 5000),
    st.floats(-2, 2),
    st.floats(-2, 2),
)
def test_a_squares_signed_distance_matches_the_plane(
    center: Point, half: float, fx: float, fy: float
) -> None:
    x, y = fx * half, fy * half
    inside = abs(x) < half and abs(y) < half
    if inside:
        expected = min(half - abs(x), half - abs(y))
    else:
        expected = -math.hypot(max(abs(x) - half, 0), max(abs(y) - half, 0))
    got = square(center, half).signed_distance_m(offset(center, x, y))
    # The fix-centred projection differs from the square's own by a scale of ~tan(lat)·Δlat.
    assert got == pytest.approx(expected, abs=2e-3 * half + 1e-6)


@given(star_polygons(), bearings, st.floats(0, 8000), bands)
@settings(max_examples=300)
def test_the_cheap_rejection_never_decides_otherwise(
    drawn: tuple[Point, Polygon], bearing: float, distance: float, band: float
) -> None:
    center, shape = drawn
    point = destination(center, bearing, distance)
    assert containment(shape, point, band) is classify_distance(
        shape.signed_distance_m(point), band
    )


@given(star_polygons(), bearings, st.floats(0, 4000), st.integers(0, 100))
def test_vertex_order_and_start_do_not_matter(
    drawn: tuple[Point, Polygon], bearing: float, distance: float, start: int
) -> None:
    center, shape = drawn
    point = destination(center, bearing, distance)
    vertices = list(shape.vertices)
    k = start % len(vertices)
    rotated = polygon(vertices[k:] + vertices[:k])
    reversed_ = polygon(vertices[::-1])
    d = shape.signed_distance_m(point)
    assert rotated.signed_distance_m(point) == pytest.approx(d, abs=1e-6)
    assert reversed_.signed_distance_m(point) == pytest.approx(d, abs=1e-6)


@given(star_polygons(), bearings, st.floats(0, 4000), st.floats(-360, 360))
def test_moving_place_and_fix_east_changes_nothing_even_across_180(
    drawn: tuple[Point, Polygon], bearing: float, distance: float, shift: float
) -> None:
    center, shape = drawn
    point = destination(center, bearing, distance)

    def moved(p: Point) -> Point:
        return Point(p.latitude, (p.longitude + shift + 180.0) % 360.0 - 180.0)

    there = polygon([moved(v) for v in shape.vertices])
    assert there.signed_distance_m(moved(point)) == pytest.approx(
        shape.signed_distance_m(point), abs=1e-4
    )


@given(centers, st.floats(200, 20_000), bearings, st.floats(0, 2.0))
def test_a_100_gon_is_its_circle_up_to_the_sagitta(
    center: Point, radius: float, bearing: float, fraction: float
) -> None:
    n = MAX_POLYGON_POINTS
    ring = polygon([destination(center, 360.0 * i / n, radius) for i in range(n)])
    point = destination(center, bearing, fraction * radius)
    sagitta = radius * (1 - math.cos(math.pi / n))
    circle = Circle(center, radius).signed_distance_m(point)
    assert ring.signed_distance_m(point) == pytest.approx(circle, abs=sagitta + 2e-3 * radius)


@given(star_polygons(), bearings, st.floats(0, 4000), bands, bands)
def test_a_wider_band_only_turns_answers_into_unknown(
    drawn: tuple[Point, Polygon], bearing: float, distance: float, a: float, b: float
) -> None:
    center, shape = drawn
    point = destination(center, bearing, distance)
    narrow, wide = sorted((a, b))
    at_wide = containment(shape, point, wide)
    if at_wide is not Containment.UNKNOWN:
        assert containment(shape, point, narrow) is at_wide


@given(centers, st.floats(50, 5000), bearings, st.floats(0, 10_000), st.floats(0, 500))
def test_a_fix_straddling_a_circle_is_unknown(
    center: Point, radius: float, bearing: float, distance: float, band: float
) -> None:
    point = destination(center, bearing, distance)
    seen = containment(Circle(center, radius), point, band)
    gap = radius - distance
    if abs(gap) < band - 1e-6:
        assert seen is Containment.UNKNOWN
    elif gap > band + 1e-6:
        assert seen is Containment.INSIDE
    elif -gap > band + 1e-6:
        assert seen is Containment.OUTSIDE


def test_the_accuracy_circle_must_clear_the_boundary() -> None:
    school = Circle(ALMATY, 200)
    assert containment(school, ALMATY, 35) is Containment.INSIDE
    assert containment(school, destination(ALMATY, 90, 150), 35) is Containment.INSIDE
    assert containment(school, destination(ALMATY, 90, 170), 35) is Containment.UNKNOWN
    assert containment(school, destination(ALMATY, 90, 230), 35) is Containment.UNKNOWN
    assert containment(school, destination(ALMATY, 90, 240), 35) is Containment.OUTSIDE
    assert containment(school, destination(ALMATY, 0, 5000), 2500) is Containment.OUTSIDE


@given(star_polygons())
def test_rings_drawn_around_a_centre_are_places(drawn: tuple[Point, Polygon]) -> None:
    center, shape = drawn
    assert shape.signed_distance_m(center) > 0
    assert haversine_m(shape.bound_center, center) <= shape.bound_radius_m


@given(centers, st.integers(4, 40), st.integers(0, 39))
def test_swapping_two_neighbours_of_a_convex_ring_makes_it_cross_itself(
    center: Point, n: int, i: int
) -> None:
    points = [destination(center, 360.0 * k / n, 1000) for k in range(n)]
    i %= n
    j = (i + 1) % n
    points[i], points[j] = points[j], points[i]
    with pytest.raises(InvalidShape, match="cross"):
        polygon(points)


def test_a_closed_ring_is_taken_as_open() -> None:
    ring = [offset(ALMATY, x, y) for x, y in ((0, 0), (300, 0), (300, 300), (0, 300), (0, 0))]
    assert len(polygon(ring).vertices) == 4


@pytest.mark.parametrize(
    ("points", "reason"),
    [
        ([(0, 0), (300, 0)], "3 to 100"),
        ([(x, 0) for x in range(101)], "3 to 100"),
        ([(0, 0), (300, 300), (300, 0), (0, 300)], "cross"),  # a bow tie
        ([(0, 0), (300, 0), (300, 0), (0, 300)], "same"),
        ([(0, 0), (300, 0), (150, 0), (150, 300)], "folds back"),
        ([(0, 0), (300, 0), (600, 0)], "area|folds back"),
        ([(0, 0), (5, 0), (5, 5), (0, 5)], "at least 100 m²"),
        ([(0, 0), (120_000, 0), (120_000, 1000), (0, 1000)], "fit in a circle"),
        ([(0, 0), (300, 0), (300, 300), (150, 0), (0, 300)], "cross"),  # touches an edge
    ],
)
def test_rings_that_cannot_be_places(points: list[tuple[float, float]], reason: str) -> None:
    with pytest.raises(InvalidShape, match=reason):
        polygon([offset(ALMATY, x, y) for x, y in points])


@pytest.mark.parametrize(
    "point",
    [Point(86, 0), Point(91, 0), Point(0, 181), Point(math.nan, 0), Point(0, math.inf)],
)
def test_polygons_near_the_poles_or_off_the_globe_are_refused(point: Point) -> None:
    with pytest.raises(InvalidShape):
        polygon([point, Point(0, 0.01), Point(0.01, 0.01)])


@pytest.mark.parametrize("radius", [49.9, 50_000.1, math.nan])
def test_circle_radius_limits(radius: float) -> None:
    with pytest.raises(InvalidShape, match="radius"):
        Circle(ALMATY, radius)
