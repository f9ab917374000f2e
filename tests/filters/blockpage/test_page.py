"""The block page's HTML, language choice and form token, without a server."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest

from filters.blockpage import token as tokens
from filters.blockpage.page import BlockedView, Category, Helpline, render_blocked, render_message
from filters.blockpage.service import host_of
from filters.blockpage.texts import LOCALES, TEXTS, choose_locale

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SECRET = "s" * 40


def view(**changes: object) -> BlockedView:
    values: dict[str, object] = {
        "host": "pills.test",
        "locale": "en",
        "category": Category("Drugs", "Selling or promoting drugs."),
        "helpline": None,
        "token": "123.abc",
        "can_ask": True,
    }
    values.update(changes)
    return BlockedView(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "kk"),
        ("", "kk"),
        ("en-US,en;q=0.9", "en"),
        ("ru-RU", "ru"),
        ("de-DE,ru;q=0.5,kk;q=0.8", "kk"),
        ("kk-KZ;q=0.2,ru;q=0.2", "kk"),  # equal quality: the browser's order
        ("fr, de", "kk"),
        ("en;q=0, ru;q=bogus", "kk"),  # refused and malformed weights choose nothing
    ],
)
def test_the_language_is_the_browsers_first_of_kk_ru_en(header: str | None, expected: str) -> None:
    assert choose_locale(header, "kk") == expected


def test_every_text_is_in_every_language() -> None:
    for key, variants in TEXTS.items():
        assert set(variants) == set(LOCALES), key
        assert all(v.strip() for v in variants.values()), key


def test_the_page_names_the_host_and_the_category_and_offers_both_forms() -> None:
    page = render_blocked(view())
    assert '<html lang="en">' in page
    assert '<span class="host">pills.test</span>' in page
    assert "<strong>Drugs</strong>. Selling or promoting drugs." in page
    assert 'action="/.child-sim/ask"' in page
    assert 'action="/.child-sim/report"' in page
    assert 'name="token" value="123.abc"' in page
    # Self-contained: nothing loaded from anywhere, no scripts.
    assert "<script" not in page
    assert "src=" not in page
    assert "http" not in page.lower().replace("http-equiv", "")


def test_everything_printed_is_escaped() -> None:
    hostile = '"><script>alert(1)</script><a href="x'
    page = render_blocked(
        view(
            host=hostile,
            category=Category(hostile, hostile),
            token=hostile,
            helpline=None,
        )
    )
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'value="&quot;&gt;&lt;script&gt;' in page


def test_self_harm_shows_the_help_line_instead_of_the_refusal() -> None:
    page = render_blocked(
        view(locale="ru", helpline=Helpline("150", "Телефон доверия"), category=None)
    )
    assert '<a href="tel:150">150</a>' in page
    assert "Телефон доверия" in page
    assert TEXTS["care"]["ru"] in page
    assert TEXTS["because"]["ru"] not in page


def test_a_line_without_a_child_gets_no_ask_button_and_a_bad_name_no_forms() -> None:
    page = render_blocked(view(can_ask=False))
    assert "/.child-sim/ask" not in page
    assert html.escape(TEXTS["no_child"]["en"]) in page
    assert "/.child-sim/report" in page
    bare = render_blocked(view(token=None))
    assert "<form" not in bare


def test_a_message_page_is_in_its_language() -> None:
    page = render_message("kk", "asked")
    assert '<html lang="kk">' in page
    assert TEXTS["asked"]["kk"] in page


def test_a_token_verifies_only_for_its_host_line_and_time() -> None:
    issued = tokens.issue(SECRET, host="pills.test", line="L1", now=NOW, ttl=900)
    assert tokens.verify(SECRET, issued, host="pills.test", line="L1", now=NOW)
    assert not tokens.verify(SECRET, issued, host="other.test", line="L1", now=NOW)
    assert not tokens.verify(SECRET, issued, host="pills.test", line="L2", now=NOW)
    assert not tokens.verify("t" * 40, issued, host="pills.test", line="L1", now=NOW)
    later = NOW + timedelta(seconds=900)
    assert not tokens.verify(SECRET, issued, host="pills.test", line="L1", now=later)
    expires, mac = issued.split(".")
    stretched = f"{int(expires) + 3600}.{mac}"
    assert not tokens.verify(SECRET, stretched, host="pills.test", line="L1", now=NOW)
    for garbage in ("", ".", "abc.def", "1" * 40 + ".x", issued[:-1] + "0"):
        assert not tokens.verify(SECRET, garbage, host="pills.test", line="L1", now=NOW)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Pills.Test", "pills.test"),
        ("pills.test:80", "pills.test"),
        ("10.0.0.1", None),
        ("[::1]:80", None),
        ("<script>.test", None),
        ("", None),
    ],
)
def test_the_host_header_is_a_normalised_name_or_nothing(header: str, expected: str | None) -> None:
    assert host_of(header) == expected
