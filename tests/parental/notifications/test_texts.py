"""What each notice says: every kind in Kazakh, Russian and English, filled in, short enough
for a phone, naming the child, with times on the child's clock and string-only data."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from filters.unblock.events import UnblockRequested
from parental import i18n
from parental.notifications.kinds import BY_NAME, NotifiableEvent, kind_of
from parental.notifications.texts import BODY_MAX, TITLE_MAX, Rendered, render
from telemetry.alarms.events import DeviceSilent
from telemetry.usage.events import (
    ExtraTimeRequested,
    ScreenTimeLimitReached,
    TaskDone,
    WeeklyUsageSummary,
)
from tests.parental.notifications.samples import (
    AT,
    CHILD,
    message_notices,
    place_entered,
    sample_events,
)

ALMATY = ZoneInfo("Asia/Almaty")
LOCALES: tuple[i18n.Locale, ...] = get_args(i18n.Locale)
PLACEHOLDER = re.compile(r"\{[^}]*\}")
CYRILLIC = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]")
KAZAKH_ONLY = re.compile(r"[ӘәҒғҚқҢңӨөҰұҮүҺһІі]")


def rendered(event: NotifiableEvent, locale: i18n.Locale, name: str = "Aigerim") -> Rendered:
    return render(event, child_name=name, zone=ALMATY, locale=locale)


def by_kind(name: str) -> NotifiableEvent:
    return next(e for e in sample_events() if kind_of(e).name == name)


@pytest.mark.parametrize(
    "event", [*sample_events(), *message_notices()], ids=lambda e: type(e).__name__
)
def test_every_kind_renders_in_every_locale(event: NotifiableEvent) -> None:
    texts = {locale: rendered(event, locale) for locale in LOCALES}
    for locale, out in texts.items():
        assert 0 < len(out.title) <= TITLE_MAX, (locale, out.title)
        assert 0 < len(out.body) <= BODY_MAX, (locale, out.body)
        assert not PLACEHOLDER.search(out.title + out.body), (locale, out)
        assert "Aigerim" in out.title or "Aigerim" in out.body, (locale, out)
        assert out.data["kind"] == kind_of(event).name
        assert out.data["child_id"] == str(CHILD)
        assert all(isinstance(v, str) for v in out.data.values())
        assert out.data == texts["en"].data  # the app's data does not depend on the language
    assert texts["kk"].title != texts["en"].title
    assert texts["kk"].body != texts["en"].body
    assert texts["ru"].title != texts["en"].title
    assert texts["ru"].body != texts["en"].body
    assert texts["kk"].body != texts["ru"].body
    assert CYRILLIC.search(texts["ru"].body)
    assert CYRILLIC.search(texts["kk"].body)
    assert not CYRILLIC.search(texts["en"].title + texts["en"].body)


def test_kazakh_is_kazakh() -> None:
    # Real Kazakh uses its own letters (ә, ғ, қ, ң, ө, ұ, ү, һ, і) in almost every sentence.
    bodies = [rendered(e, "kk").body for e in sample_events()]
    assert sum(bool(KAZAKH_ONLY.search(b)) for b in bodies) >= len(bodies) - 1
    assert not any(KAZAKH_ONLY.search(rendered(e, "ru").body) for e in sample_events())


def test_every_push_text_is_in_the_catalogue_in_three_languages() -> None:
    catalogue = i18n.keys()
    push = {k for k in catalogue if k.startswith("push.")}
    for name in BY_NAME:
        assert f"push.{name}.title" in push
    names = "child place time by battery since host count minutes app category task week total"
    names += " labels"
    values = dict.fromkeys([*names.split(), "diff", "hours", "date"], "x")
    for key in push:
        for locale in LOCALES:
            # Every language is there, and names only the values render() fills in.
            assert i18n.text(key, locale, **values).strip(), (key, locale)


def test_times_are_on_the_childs_clock() -> None:
    # 09:00 UTC is 14:00 in Almaty; in Berlin (winter) it is 10:00.
    event = place_entered()
    assert "14:00" in rendered(event, "en").body
    berlin = render(event, child_name="Aigerim", zone=ZoneInfo("Europe/Berlin"), locale="ru")
    assert "10:00" in berlin.body
    sos = rendered(by_kind("alarm.sos"), "kk")
    assert "14:00" in sos.body


def test_details_are_filled_in() -> None:
    assert "School No. 12" in rendered(by_kind("place.exit"), "kk").title
    assert "9%" in rendered(by_kind("alarm.low_battery"), "ru").body
    assert "13:15" in rendered(by_kind("alarm.device_silent"), "en").body  # 45 minutes before
    assert "school-wiki.test" in rendered(by_kind("filter.unblock_request"), "kk").body
    assert "30" in rendered(by_kind("screen_time.extra_time_request"), "ru").body
    assert "Chess Club" in rendered(by_kind("screen_time.app_install_request"), "en").body
    assert "Homework" in rendered(by_kind("screen_time.task_done"), "kk").body
    assert "Example Game" in rendered(by_kind("screen_time.limit_reached"), "ru").body
    weekly = rendered(by_kind("usage.weekly_summary"), "en").body
    assert weekly.startswith("16.11–22.11: 12 h 30 min of screen time, 2 h 30 min more")
    assert "Example Game" in weekly
    assert "12 ч 30 мин" in rendered(by_kind("usage.weekly_summary"), "ru").body
    assert "12 сағ 30 мин" in rendered(by_kind("usage.weekly_summary"), "kk").body


def test_self_harm_names_no_site_on_the_lock_screen() -> None:
    for locale in LOCALES:
        out = rendered(by_kind("filter.self_harm"), locale)
        assert "harm.test" not in out.title + out.body
        assert "host" not in out.data


def test_a_message_alert_quotes_nothing_and_names_the_app() -> None:
    grooming = rendered(by_kind("messages.risk"), "ru")
    assert grooming.body.startswith("В 13:57 в переписке в WhatsApp")
    assert "встрече" in grooming.body
    assert grooming.data["label"] == "grooming"
    assert grooming.data["alert_id"] == "00000000-0000-0000-0000-000000001015"
    harm = rendered(by_kind("messages.self_harm"), "en")
    assert harm.title.endswith("may need your support")
    assert "Telegram" in harm.body
    assert "13:58" in harm.body


def test_one_notice_names_every_label_and_a_gathered_one_counts() -> None:
    several, also, gathered, gathered_harm = message_notices()
    out = rendered(several, "en")
    assert out.body.startswith("At 13:57 messages in WhatsApp raised several alerts")
    assert "grooming, sexual content, drugs" in out.body
    assert out.data["labels"] == "grooming,sexual,drugs"
    assert out.data["alert_id"] == str(several.alert_id)  # the most serious: the app opens it
    assert "склонение к встрече, сексуальный контент, наркотики" in rendered(several, "ru").body
    harm = rendered(also, "ru")
    assert harm.title.endswith("возможно, нужна ваша поддержка")
    assert "самоповреждении" in harm.body
    assert "а также: травля" in harm.body
    assert "қорлау" in rendered(also, "kk").body

    counted = rendered(gathered, "en")
    assert counted.title == "Aigerim: more alerts (12)"
    assert counted.body.startswith("More alerts since 13:45: 12 (bullying, violence)")
    assert counted.data | {"kind": "", "child_id": ""} == {
        "kind": "",
        "child_id": "",
        "since": "2026-11-25T08:45:00+00:00",
        "until": "2026-11-25T09:00:00+00:00",
        "alerts": "12",
        "conversations": "7",
        "labels": "bullying,violence",
    }
    assert rendered(gathered, "kk").title == "Aigerim: тағы 12 ескерту"
    harm_counted = rendered(gathered_harm, "en")
    assert harm_counted.title == "Aigerim may need your support"
    assert "30 (self-harm, drugs), self-harm among them" in harm_counted.body
    assert "Talk to Aigerim calmly" in harm_counted.body
    assert "среди них о самоповреждении" in rendered(gathered_harm, "ru").body


def test_data_carries_the_ids_to_open_the_screen() -> None:
    sos = rendered(by_kind("alarm.sos"), "en").data
    assert set(sos) == {"kind", "child_id", "alarm_id", "device_id"}
    place = rendered(by_kind("place.enter"), "en").data
    assert place["place_id"] == "00000000-0000-4000-8000-0000000091ac"
    assert rendered(by_kind("usage.weekly_summary"), "en").data["week_start"] == "2026-11-16"
    assert "task_id" in rendered(by_kind("screen_time.task_done"), "en").data


def test_variants() -> None:
    extra = by_kind("screen_time.extra_time_request")
    assert isinstance(extra, ExtraTimeRequested)
    games = extra.model_copy(update={"app": None, "category": "games"})
    total = extra.model_copy(update={"app": None, "category": None})
    assert "«ойындар»" in rendered(games, "kk").body
    assert "игры" in rendered(games, "ru").body
    assert "screen time" in rendered(total, "en").body

    task = by_kind("screen_time.task_done")
    assert isinstance(task, TaskDone)
    no_reward = task.model_copy(update={"reward_minutes": 0})
    assert " 0 " not in rendered(no_reward, "en").body

    asked = by_kind("filter.unblock_request")
    assert isinstance(asked, UnblockRequested)
    again = asked.model_copy(update={"ask_count": 3})
    assert "3" in rendered(again, "ru").body
    assert "снова" in rendered(again, "ru").body

    limit = by_kind("screen_time.limit_reached")
    assert isinstance(limit, ScreenTimeLimitReached)
    social = limit.model_copy(update={"limit": "category", "app": None, "category": "social"})
    assert "соцсети" in rendered(social, "ru").body

    weekly = by_kind("usage.weekly_summary")
    assert isinstance(weekly, WeeklyUsageSummary)
    less = weekly.model_copy(update={"previous_total_minutes": 900.0})
    same = weekly.model_copy(update={"previous_total_minutes": 745.0})
    first = weekly.model_copy(update={"previous_total_minutes": 0.0})
    assert "2 h 30 min less" in rendered(less, "en").body
    assert "about the same" in rendered(same, "en").body
    assert "week before" not in rendered(first, "en").body


def test_silent_since_another_day_shows_the_date() -> None:
    silent = by_kind("alarm.device_silent")
    assert isinstance(silent, DeviceSilent)
    overnight = silent.model_copy(update={"last_seen_at": AT - timedelta(hours=20)})
    assert "24.11 18:00" in rendered(overnight, "en").body


@pytest.mark.parametrize("locale", LOCALES)
def test_long_names_are_shortened_to_fit(locale: i18n.Locale) -> None:
    long_name = "Aigerim-Aruzhan " * 5  # 80 characters, the longest a child's name may be
    long_place = "Specialised gymnasium for mathematics and physics No. 165 of Almaty"
    events = [*sample_events(), *message_notices(), place_entered(place_name=long_place)]
    for event in events:
        out = render(event, child_name=long_name, zone=ALMATY, locale=locale)
        assert len(out.title) <= TITLE_MAX, out.title
        assert len(out.body) <= BODY_MAX, out.body
        assert "Aigerim" in out.title + out.body
        assert not PLACEHOLDER.search(out.title + out.body)
