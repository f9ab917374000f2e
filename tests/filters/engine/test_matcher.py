"""Snapshot compilation and the matching semantics, on small hand-written lists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from filters.engine.matcher import decide, path_matches
from filters.engine.rules import Action, Rule, Scope
from filters.engine.snapshot import Snapshot, SourceRef, SourceRules, compile_snapshot

pytestmark = pytest.mark.usefixtures("implementation")  # native and pure Python

CATEGORIES = ["self_harm", "drugs", "gambling", "kids_allow"]
ALL = 0b1111

BLOCK, ALLOW = Action.BLOCK, Action.ALLOW
EXACT, SUBTREE, SUBDOMAINS, URL = Scope.EXACT, Scope.SUBTREE, Scope.SUBDOMAINS, Scope.URL


@pytest.fixture
def snapshot(tmp_path: Path) -> Iterator[Snapshot]:
    sources = [
        SourceRules(
            SourceRef("s1", "drugs-hosts", "v1"),
            ["drugs"],
            [
                Rule("weed.example", EXACT, BLOCK, line=1),
                Rule("shop.drugs.test", SUBTREE, BLOCK, line=2),
                Rule("1.2.3.4", EXACT, BLOCK, line=3),
            ],
        ),
        SourceRules(
            SourceRef("s2", "exceptions", "v7"),
            ["drugs"],
            [
                Rule("ok.shop.drugs.test", SUBTREE, ALLOW),
                Rule("harm.test", SUBTREE, ALLOW),
            ],
        ),
        SourceRules(
            SourceRef("s3", "self-harm", "v2"),
            ["self_harm"],
            [
                Rule("harm.test", SUBTREE, BLOCK),
                Rule("deep.ok.shop.drugs.test", EXACT, BLOCK),
                Rule("rpz.test", SUBDOMAINS, BLOCK),
                Rule("forum.test", URL, BLOCK, path="/suicide"),
                Rule("forum.test", URL, ALLOW, path="/suicide/help"),
            ],
        ),
        SourceRules(SourceRef("s4", "casino", "v1"), ["gambling"], [Rule("casino.test", SUBTREE)]),
        SourceRules(
            SourceRef("s5", "kids-white", "v1"),
            ["kids_allow"],
            [Rule("kids.casino.test", SUBTREE, ALLOW)],
        ),
    ]
    path = tmp_path / "v1.snap"
    counts = compile_snapshot(sources, CATEGORIES, path, version="v1")
    assert counts["rules"] == 12
    snap = Snapshot(path)
    yield snap
    snap.close()


@pytest.mark.parametrize(
    ("host", "path", "action", "listed"),
    [
        ("weed.example", "", BLOCK, "weed.example"),
        ("www.weed.example", "", ALLOW, None),  # exact rules do not reach subdomains
        ("shop.drugs.test", "", BLOCK, "shop.drugs.test"),
        ("a.b.shop.drugs.test", "", BLOCK, "shop.drugs.test"),
        ("drugs.test", "", ALLOW, None),  # nor do subtree rules reach parents
        ("ok.shop.drugs.test", "", ALLOW, "ok.shop.drugs.test"),  # exception, more specific
        ("x.ok.shop.drugs.test", "", ALLOW, "ok.shop.drugs.test"),
        ("deep.ok.shop.drugs.test", "", BLOCK, "deep.ok.shop.drugs.test"),  # block below allow
        ("harm.test", "", ALLOW, "harm.test"),  # allow beats block at the same level
        ("a.harm.test", "", ALLOW, "harm.test"),
        ("rpz.test", "", ALLOW, None),  # *.name in RPZ: subdomains only
        ("a.rpz.test", "", BLOCK, "rpz.test"),
        ("forum.test", "", ALLOW, None),  # a bare name never meets URL rules
        ("forum.test", "/", ALLOW, None),
        ("forum.test", "/suicide", BLOCK, "forum.test"),
        ("forum.test", "/suicide/methods", BLOCK, "forum.test"),
        ("forum.test", "/suicide.html", BLOCK, "forum.test"),
        ("forum.test", "/suicidesquad", ALLOW, None),
        ("forum.test", "/suicide/help/line", ALLOW, "forum.test"),  # longer URL rule wins
        ("m.forum.test", "/suicide", BLOCK, "forum.test"),  # URL rules cover subdomains
        ("1.2.3.4", "", BLOCK, "1.2.3.4"),
        ("kids.casino.test", "", ALLOW, "kids.casino.test"),
        ("poker.casino.test", "", BLOCK, "casino.test"),
        ("unlisted.example", "", ALLOW, None),
    ],
)
def test_semantics(
    snapshot: Snapshot, host: str, path: str, action: Action, listed: str | None
) -> None:
    decision = decide(snapshot, host, path, enabled=ALL, is_ip=host[0].isdigit())
    assert decision.action is action
    assert (decision.rule.host if decision.rule else None) == listed


def test_the_decision_names_the_rule_source_version_and_categories(snapshot: Snapshot) -> None:
    decision = decide(snapshot, "a.b.shop.drugs.test", "", enabled=ALL)
    assert decision.categories == ("drugs",)
    assert decision.rule is not None
    assert decision.rule.scope is SUBTREE
    assert decision.rule.source == SourceRef("s1", "drugs-hosts", "v1")


def test_disabled_categories_do_not_apply(snapshot: Snapshot) -> None:
    only_drugs = 1 << CATEGORIES.index("drugs")
    assert decide(snapshot, "poker.casino.test", "", enabled=only_drugs).action is ALLOW
    # With the self-harm category off, its block below the drugs exception no longer applies.
    decision = decide(snapshot, "deep.ok.shop.drugs.test", "", enabled=only_drugs)
    assert decision.action is ALLOW
    assert decision.rule is not None
    assert decision.rule.host == "ok.shop.drugs.test"
    # The kids allow-list is a category too: off, the casino block applies to its subtree.
    no_kids = ALL & ~(1 << CATEGORIES.index("kids_allow"))
    assert decide(snapshot, "kids.casino.test", "", enabled=no_kids).action is BLOCK


def test_the_same_rule_from_two_categories_carries_both(tmp_path: Path) -> None:
    sources = [
        SourceRules(SourceRef("a", "a", "1"), ["drugs"], [Rule("x.test", SUBTREE)]),
        SourceRules(SourceRef("a", "a", "1"), ["gambling"], [Rule("x.test", SUBTREE)]),
    ]
    compile_snapshot(sources, CATEGORIES, tmp_path / "s", version="1")
    snap = Snapshot(tmp_path / "s")
    try:
        assert len(snap.rules_for("x.test")) == 2
        decision = decide(snap, "x.test", "", enabled=ALL)
        assert decision.action is BLOCK
    finally:
        snap.close()


def test_snapshot_files_are_checked_and_written_atomically(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"not a snapshot at all")
    with pytest.raises(ValueError, match="not a snapshot"):
        Snapshot(bad)
    target = tmp_path / "s"
    compile_snapshot([], CATEGORIES, target, version="empty")
    assert not (tmp_path / "s.tmp").exists()
    snap = Snapshot(target)
    try:
        assert snap.hosts == 0
        assert decide(snap, "anything.test", "", enabled=ALL).action is ALLOW
    finally:
        snap.close()


@pytest.mark.parametrize(
    ("request_path", "prefix", "matches"),
    [
        ("/a", "/a", True),
        ("/a/b", "/a", True),
        ("/a.html", "/a", True),
        ("/a?x=1", "/a", True),
        ("/ab", "/a", False),
        ("/ab", "/", True),
        ("/dir/", "/dir/", True),
        ("/dir/x", "/dir/", True),
        ("/b", "/a", False),
    ],
)
def test_path_prefixes_end_at_a_boundary(request_path: str, prefix: str, matches: bool) -> None:
    assert path_matches(request_path, prefix) is matches
