"""The pure parts of locations: fix ids, screening a batch, the latest-position rule and the
sampling intervals. No database."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telemetry.locations.keys import carrier_fix_id, device_fix_id, first_id_at
from telemetry.locations.latest import choose
from telemetry.locations.sampling import interval_start
from telemetry.locations.schemas import (
    CarrierPositionCreate,
    FixCreate,
    LocationRead,
    RejectReason,
)
from telemetry.locations.screening import Limits, reason_against, screen

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LIMITS = Limits(
    max_future_skew=timedelta(minutes=5), retention=timedelta(days=30), max_accuracy_m=5000
)
DEVICE = uuid.UUID("11111111-1111-4111-8111-111111111111")
CHILD = uuid.UUID("22222222-2222-4222-8222-222222222222")


def fix(**changes: Any) -> FixCreate:
    values: dict[str, Any] = {
        "fixed_at": NOW - timedelta(minutes=1),
        "latitude": 43.2567,
        "longitude": 76.9286,
        "accuracy_m": 12.0,
    }
    return FixCreate.model_validate({**values, **changes})


# --- ids --------------------------------------------------------------------------------


def test_an_id_names_one_device_and_instant_whatever_the_offset() -> None:
    almaty = timezone(timedelta(hours=5))
    at = datetime(2026, 11, 25, 14, 0, 0, 123456, tzinfo=almaty)
    assert device_fix_id(DEVICE, at) == device_fix_id(DEVICE, at.astimezone(UTC))
    assert device_fix_id(DEVICE, at) != device_fix_id(DEVICE, at + timedelta(microseconds=1))
    assert device_fix_id(DEVICE, at) != device_fix_id(uuid.uuid4(), at)
    assert device_fix_id(DEVICE, at) != carrier_fix_id(DEVICE, at)


# Hypothesis takes naive bounds and adds the zone itself.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC).replace(tzinfo=None)
LATEST = datetime(2100, 1, 1, tzinfo=UTC).replace(tzinfo=None)
MOMENTS = st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(UTC))


@given(MOMENTS, MOMENTS)
def test_ids_sort_by_fix_time_to_the_millisecond(a: datetime, b: datetime) -> None:
    ms_a, ms_b = (
        a.replace(microsecond=a.microsecond // 1000 * 1000),
        b.replace(microsecond=b.microsecond // 1000 * 1000),
    )
    if ms_a < ms_b:
        assert device_fix_id(DEVICE, a) < device_fix_id(DEVICE, b)
    # first_id_at(t) splits ids exactly at t's millisecond: the purge's boundary.
    assert (device_fix_id(DEVICE, a) < first_id_at(b)) == (ms_a < ms_b)
    assert (carrier_fix_id(CHILD, a) < first_id_at(b)) == (ms_a < ms_b)


def test_ids_sort_as_the_databases_store_them() -> None:
    """SQLite keeps a Uuid as 32 hex digits: their text order is the ids' order."""
    ids = [device_fix_id(DEVICE, NOW + timedelta(milliseconds=i * 7)) for i in range(200)]
    assert sorted(ids) == ids
    assert sorted(i.hex for i in ids) == [i.hex for i in ids]


# --- screening --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"fixed_at": NOW + timedelta(minutes=5, seconds=1)}, RejectReason.IN_FUTURE),
        ({"fixed_at": NOW - timedelta(days=30, seconds=1)}, RejectReason.TOO_OLD),
        ({"latitude": 90.0001}, RejectReason.INVALID_COORDINATES),
        ({"latitude": -91}, RejectReason.INVALID_COORDINATES),
        ({"longitude": 180.5}, RejectReason.INVALID_COORDINATES),
        ({"latitude": math.nan}, RejectReason.INVALID_COORDINATES),
        ({"longitude": math.inf}, RejectReason.INVALID_COORDINATES),
        ({"accuracy_m": 5000.5}, RejectReason.INACCURATE),
        ({"accuracy_m": 0}, RejectReason.INACCURATE),
        ({"accuracy_m": -3}, RejectReason.INACCURATE),
        ({"accuracy_m": math.nan}, RejectReason.INACCURATE),
        ({"speed_mps": -1}, RejectReason.INVALID_VALUE),
        ({"heading_deg": 361}, RejectReason.INVALID_VALUE),
        ({"battery_pct": 101}, RejectReason.INVALID_VALUE),
        ({"battery_pct": -1}, RejectReason.INVALID_VALUE),
        ({"altitude_m": math.inf}, RejectReason.INVALID_VALUE),
    ],
)
def test_a_bad_fix_is_refused_with_its_reason(
    changes: dict[str, Any], reason: RejectReason
) -> None:
    assert reason_against(fix(**changes), now=NOW, limits=LIMITS) is reason


@pytest.mark.parametrize(
    "changes",
    [
        {"fixed_at": NOW + timedelta(minutes=5)},
        {"fixed_at": NOW - timedelta(days=30)},
        {"latitude": -90, "longitude": 180},
        {"accuracy_m": 5000},
        {"speed_mps": 0, "heading_deg": 360, "battery_pct": 0, "altitude_m": -400},
    ],
)
def test_fixes_on_the_limits_are_kept(changes: dict[str, Any]) -> None:
    assert reason_against(fix(**changes), now=NOW, limits=LIMITS) is None


def test_the_carrier_limit_applies_to_carrier_positions() -> None:
    cell = CarrierPositionCreate(
        fixed_at=NOW, latitude=43.2, longitude=76.9, accuracy_m=20_000, client_id=None
    )
    assert reason_against(cell, now=NOW, limits=LIMITS) is RejectReason.INACCURATE
    wide = Limits(LIMITS.max_future_skew, LIMITS.retention, max_accuracy_m=50_000)
    assert reason_against(cell, now=NOW, limits=wide) is None


def test_screening_keeps_the_first_of_a_repeated_instant_and_refuses_alone() -> None:
    first = NOW - timedelta(minutes=3)
    batch = [
        fix(fixed_at=first),
        fix(latitude=200),
        fix(fixed_at=first.astimezone(timezone(timedelta(hours=5))), latitude=1),  # same instant
        fix(fixed_at=NOW - timedelta(minutes=1)),
        fix(fixed_at=first, latitude=500),  # bad before it is a repeat
    ]
    screened = screen(batch, now=NOW, limits=LIMITS)
    assert [i for i, _ in screened.keep] == [0, 3]
    assert screened.repeated == [2]
    assert screened.rejected == {
        1: RejectReason.INVALID_COORDINATES,
        4: RejectReason.INVALID_COORDINATES,
    }


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "minutes_ago": st.integers(min_value=-10, max_value=50_000),
                "latitude": st.floats(allow_nan=True, allow_infinity=True),
                "longitude": st.floats(allow_nan=True, allow_infinity=True),
                "accuracy_m": st.floats(allow_nan=True, allow_infinity=True),
            }
        ),
        max_size=30,
    )
)
def test_every_item_is_judged_once_and_only_sound_fixes_are_kept(
    raw: list[dict[str, Any]],
) -> None:
    batch = [
        fix(
            fixed_at=NOW - timedelta(minutes=r["minutes_ago"]),
            latitude=r["latitude"],
            longitude=r["longitude"],
            accuracy_m=r["accuracy_m"],
        )
        for r in raw
    ]
    screened = screen(batch, now=NOW, limits=LIMITS)
    judged = [i for i, _ in screened.keep] + screened.repeated + list(screened.rejected)
    assert sorted(judged) == list(range(len(batch)))
    kept = [f for _, f in screened.keep]
    assert len({f.fixed_at for f in kept}) == len(kept)
    for f in kept:
        assert -90 <= f.latitude <= 90
        assert -180 <= f.longitude <= 180
        assert 0 < f.accuracy_m <= LIMITS.max_accuracy_m
        assert NOW - LIMITS.retention <= f.fixed_at <= NOW + LIMITS.max_future_skew


# --- the latest position ----------------------------------------------------------------

FALLBACK = timedelta(minutes=15)


def read(minutes_ago: float, *, carrier: bool = False) -> LocationRead:
    return LocationRead(
        id=uuid.uuid4(),
        device_id=None if carrier else DEVICE,
        source="carrier_cell" if carrier else "gps",
        fixed_at=NOW - timedelta(minutes=minutes_ago),
        latitude=43.2,
        longitude=76.9,
        accuracy_m=900 if carrier else 10,
        altitude_m=None,
        speed_mps=None,
        heading_deg=None,
        battery_pct=None,
        charging=None,
    )


def test_a_recent_device_fix_wins_over_a_newer_carrier_position() -> None:
    device, carrier = read(15), read(1, carrier=True)
    chosen = choose(device, carrier, now=NOW, fallback=FALLBACK)
    assert (chosen.location, chosen.basis, chosen.device_fixed_at) == (
        device,
        "device",
        device.fixed_at,
    )


def test_the_carrier_position_is_shown_once_the_device_is_silent() -> None:
    device, carrier = read(16), read(1, carrier=True)
    chosen = choose(device, carrier, now=NOW, fallback=FALLBACK)
    assert (chosen.location, chosen.basis, chosen.device_fixed_at) == (
        carrier,
        "carrier_fallback",
        device.fixed_at,
    )


def test_an_older_carrier_position_never_replaces_the_device_fix() -> None:
    device, carrier = read(60), read(90, carrier=True)
    assert choose(device, carrier, now=NOW, fallback=FALLBACK).location == device


def test_without_a_device_fix_the_carrier_position_is_shown() -> None:
    carrier = read(600, carrier=True)
    chosen = choose(None, carrier, now=NOW, fallback=FALLBACK)
    assert (chosen.location, chosen.basis, chosen.device_fixed_at) == (
        carrier,
        "carrier_fallback",
        None,
    )
    nothing = choose(None, None, now=NOW, fallback=FALLBACK)
    assert (nothing.location, nothing.basis) == (None, None)


# --- sampling ---------------------------------------------------------------------------


def test_intervals_are_counted_from_the_epoch() -> None:
    at = datetime(2026, 11, 25, 9, 7, 31, 5, tzinfo=UTC)
    assert interval_start(at, 600) == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert interval_start(at, 86_400) == datetime(2026, 11, 25, tzinfo=UTC)
    assert interval_start(at, 1) == at.replace(microsecond=0)
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert interval_start(start, 600) == start
    assert interval_start(start - timedelta(microseconds=1), 600) == start - timedelta(minutes=10)
