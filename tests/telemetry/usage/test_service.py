"""The pure parts of usage ingestion: judging a batch's sessions and the app names kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from telemetry.usage.schemas import AppSessionCreate, ScreenSessionCreate, SessionRejectReason
from telemetry.usage.service import Limits, label, reason_against, screen, valid_app

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
LIMITS = Limits(max_future_skew=timedelta(minutes=5), retention=timedelta(days=90))


def app(start: datetime, minutes: float, name: str = "com.example.game", **more: Any) -> Any:
    return AppSessionCreate(
        kind="app",
        app=name,
        app_name=more.pop("app_name", "Game"),
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        **more,
    )


def on(start: datetime, minutes: float) -> ScreenSessionCreate:
    return ScreenSessionCreate(
        kind="screen", started_at=start, ended_at=start + timedelta(minutes=minutes)
    )


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (app(NOW - timedelta(hours=1), 0), SessionRejectReason.INVALID_PERIOD),
        (on(NOW - timedelta(hours=1), -1), SessionRejectReason.INVALID_PERIOD),
        (on(NOW - timedelta(hours=25), 24 * 60 + 1), SessionRejectReason.TOO_LONG),
        (on(NOW - timedelta(hours=25), 24 * 60), None),  # exactly a day
        (on(NOW - timedelta(minutes=1), 6), None),  # ends 5 minutes ahead: the skew
        (on(NOW - timedelta(minutes=1), 6.01), SessionRejectReason.IN_FUTURE),
        (on(NOW - timedelta(days=90), 5), None),
        (on(NOW - timedelta(days=90, seconds=1), 5), SessionRejectReason.TOO_OLD),
        (app(NOW - timedelta(hours=1), 5, "a b"), SessionRejectReason.INVALID_APP),
        (app(NOW - timedelta(hours=1), 5, "a\x00b"), SessionRejectReason.INVALID_APP),
        (app(NOW - timedelta(hours=1), 5, ""), SessionRejectReason.INVALID_APP),
        (app(NOW - timedelta(hours=1), 5, "x" * 256), SessionRejectReason.INVALID_APP),
        (app(NOW - timedelta(hours=1), 5, "x" * 255), None),
    ],
)
def test_reasons(item: Any, reason: SessionRejectReason | None) -> None:
    assert reason_against(item, now=NOW, limits=LIMITS) == reason


def test_valid_app_follows_the_sessions_rule() -> None:
    assert valid_app("com.whatsapp")
    assert not valid_app("com.whats app")
    assert not valid_app("com.whatsapp\n")


def test_a_session_repeated_in_a_batch_is_kept_once_with_its_latest_end() -> None:
    start = NOW - timedelta(hours=2)
    plus3 = timezone(timedelta(hours=3))
    screened = screen(
        [
            app(start, 10),
            app(start.astimezone(plus3), 30),  # the same instant in another offset
            on(start, 10),  # the screen's session at that start is another session
            app(start, 20),
            app(start, 5, "org.example.chat"),
        ],
        now=NOW,
        limits=LIMITS,
    )
    assert [(k.index, k.key, k.ended_at) for k in screened.keep] == [
        (0, ("app", "com.example.game", start), start + timedelta(minutes=30)),
        (2, ("screen", None, start), start + timedelta(minutes=10)),
        (4, ("app", "org.example.chat", start), start + timedelta(minutes=5)),
    ]
    assert screened.repeated == [1, 3]
    assert screened.rejected == {}


def test_the_name_of_the_latest_session_is_kept() -> None:
    t = NOW - timedelta(hours=3)
    screened = screen(
        [
            app(t + timedelta(hours=1), 5, app_name="New name"),
            app(t, 5, app_name="Old name"),
            app(t + timedelta(minutes=30), 5, app_name="   "),  # no name: ignored
            app(t, 0, app_name="Refused"),
        ],
        now=NOW,
        limits=LIMITS,
    )
    assert screened.names == {"com.example.game": ("New name", t + timedelta(hours=1, minutes=5))}
    assert screened.rejected == {3: SessionRejectReason.INVALID_PERIOD}


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("WhatsApp", "WhatsApp"),
        ("  Two\n\tlines  ", "Two lines"),
        ("a\x00b", "a b"),
        ("", None),
        (" \u200b ", None),  # a zero-width space is not printable
        ("x" * 300, "x" * 255),
    ],
)
def test_label(name: str, shown: str | None) -> None:
    assert label(name) == shown
