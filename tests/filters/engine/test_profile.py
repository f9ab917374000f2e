"""Schedules in the child's zone, overnight windows, personal entries and temporary unblocks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from filters.engine.profile import CategorySetting, Mode, PersonalEntry, Profile, Window
from filters.engine.rules import Action, Scope

SUN_TO_THU = frozenset({6, 0, 1, 2, 3})
SCHOOL_NIGHTS = Window(SUN_TO_THU, time(21, 0), time(7, 0))


def profile(**entries: PersonalEntry) -> Profile:
    return Profile(
        timezone="Asia/Almaty",
        categories={
            "gambling": CategorySetting(Mode.ALWAYS),
            "social": CategorySetting(Mode.SCHEDULED, (SCHOOL_NIGHTS,)),
            "adult": CategorySetting(Mode.OFF),
        },
        entries=tuple(entries.values()),
    )


def almaty(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    """A local Almaty time (UTC+5) as an aware UTC instant."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=5)


@pytest.mark.parametrize(
    ("when", "social"),
    [
        (almaty(2026, 11, 22, 20, 59), False),  # Sunday evening, before the window
        (almaty(2026, 11, 22, 21, 0), True),  # Sunday 21:00: a school night starts
        (almaty(2026, 11, 23, 6, 59), True),  # Monday early morning: still Sunday's window
        (almaty(2026, 11, 23, 7, 0), False),  # Monday 07:00: ends
        (almaty(2026, 11, 27, 6, 30), True),  # Friday early: Thursday night's window
        (almaty(2026, 11, 27, 22, 0), False),  # Friday night: no school tomorrow
        (almaty(2026, 11, 28, 3, 0), False),  # Saturday early: Friday had no window
        (almaty(2026, 11, 29, 23, 0), True),  # Sunday night again
    ],
)
def test_school_nights_in_the_childs_zone(when: datetime, social: bool) -> None:
    active = profile().active_categories(when)
    assert ("social" in active) is social
    assert "gambling" in active
    assert "adult" not in active


def test_the_same_instant_is_judged_in_the_childs_own_zone() -> None:
    # 16:30 UTC on a Sunday is 21:30 in Almaty (in the window) and 19:30 in Moscow (not yet).
    instant = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
    almaty_profile = profile()
    moscow_profile = Profile(timezone="Europe/Moscow", categories=dict(almaty_profile.categories))
    assert "social" in almaty_profile.active_categories(instant)
    assert "social" not in moscow_profile.active_categories(instant)


def test_enabled_mask_follows_the_snapshot_order() -> None:
    categories = ["adult", "gambling", "social", "drugs"]
    mask = profile().enabled_mask(almaty(2026, 11, 24, 12), categories)
    assert mask == 0b0010  # only gambling at noon on a Tuesday


def test_personal_entries_most_specific_wins_and_allow_breaks_ties() -> None:
    now = almaty(2026, 11, 24, 12)
    p = profile(
        block_site=PersonalEntry("video.test", Scope.SUBTREE, Action.BLOCK),
        allow_kids=PersonalEntry("kids.video.test", Scope.SUBTREE, Action.ALLOW),
        exact=PersonalEntry("live.kids.video.test", Scope.EXACT, Action.BLOCK),
        tie_block=PersonalEntry("same.test", Scope.EXACT, Action.BLOCK),
        tie_allow=PersonalEntry("same.test", Scope.SUBTREE, Action.ALLOW),
    )

    def action(host: str) -> Action | None:
        entry = p.personal_decision(host, now)
        return entry.action if entry else None

    assert action("video.test") is Action.BLOCK
    assert action("www.video.test") is Action.BLOCK
    assert action("kids.video.test") is Action.ALLOW
    assert action("a.kids.video.test") is Action.ALLOW
    assert action("live.kids.video.test") is Action.BLOCK
    assert action("x.live.kids.video.test") is Action.ALLOW  # exact entries do not reach below
    assert action("same.test") is Action.ALLOW
    assert action("othervideo.test") is None


def test_a_temporary_unblock_expires_by_itself() -> None:
    start = almaty(2026, 11, 24, 12)
    p = profile(
        unblock=PersonalEntry(
            "game.test", Scope.SUBTREE, Action.ALLOW, expires_at=start + timedelta(hours=1)
        )
    )
    assert p.personal_decision("game.test", start) is not None
    assert p.personal_decision("game.test", start + timedelta(minutes=59)) is not None
    assert p.personal_decision("game.test", start + timedelta(hours=1)) is None


def test_windows_are_validated() -> None:
    with pytest.raises(ValueError, match="days"):
        Window(frozenset({7}), time(1), time(2))
    with pytest.raises(ValueError, match="days"):
        Window(frozenset(), time(1), time(2))
