"""The SafeSearch table: which names are pointed where."""

from __future__ import annotations

import pytest

from filters.dns.safesearch import BING, DUCKDUCKGO, GOOGLE, YOUTUBE, safe_name


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("www.google.com", GOOGLE),
        ("www.google.kz", GOOGLE),
        ("www.google.co.uk", GOOGLE),
        ("www.google.com.tr", GOOGLE),
        ("www.bing.com", BING),
        ("duckduckgo.com", DUCKDUCKGO),
        ("www.youtube.com", YOUTUBE),
        ("m.youtube.com", YOUTUBE),
        ("youtubei.googleapis.com", YOUTUBE),
        ("youtube.googleapis.com", YOUTUBE),
        ("www.youtube-nocookie.com", YOUTUBE),
        ("mail.google.com", None),
        ("www.google.example.com", None),
        ("forcesafesearch.google.com", None),
        ("bing.com.evil.test", None),
        ("youtube.com.evil.test", None),
    ],
)
def test_safe_names(name: str, target: str | None) -> None:
    assert safe_name(name) == target
