"""The native engine gives exactly what the pure-Python engine gives: hashes, verdicts, parsed
rules and reports, and snapshot files byte for byte; on generated input and the real lists."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import xxhash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filters.engine import _accel
from filters.engine.formats import parse, parse_bytes, parse_file, parse_ut1_folder
from filters.engine.matcher import ALLOW_UNLISTED, classify, decide
from filters.engine.normalize import Target
from filters.engine.rules import Action, Format, ParseReport, Rule, Scope
from filters.engine.snapshot import Snapshot, SourceRef, SourceRules, compile_snapshot
from filters.engine.verdict import Decision
from tests.filters.engine.conftest import require_native
from tests.filters.engine.test_formats import REAL_LISTS, UT1_USAGE
from tests.filters.engine.test_normalize import NAME_253, NAME_254, any_input, url_shaped

BLOCK, ALLOW = Action.BLOCK, Action.ALLOW
EXACT, SUBTREE, SUBDOMAINS, URL = Scope.EXACT, Scope.SUBTREE, Scope.SUBDOMAINS, Scope.URL
CATEGORIES = ["self_harm", "drugs", "gambling", "adult", "kids_allow"]
REPO = Path(__file__).parents[3]


@pytest.fixture(autouse=True)
def requires_native() -> None:
    require_native()


def outcome(function: Callable[..., object], *args: Any, **kwargs: Any) -> object:
    """What ``function`` returns, or the class and text of the ValueError it raises."""
    try:
        return function(*args, **kwargs)
    except ValueError as error:  # InvalidTarget, UnicodeEncodeError...
        return type(error).__name__, str(error)


def both(function: Callable[..., object], *args: Any, **kwargs: Any) -> tuple[object, object]:
    """``function`` run natively, then in pure Python: (native outcome, Python outcome)."""
    native = outcome(function, *args, **kwargs)
    with _accel.pure_python():
        return native, outcome(function, *args, **kwargs)


# --- xxh64 -------------------------------------------------------------------------------


def test_xxh64_is_xxhash_for_every_length_up_to_100() -> None:
    engine = _accel.native
    assert engine is not None
    for length in range(101):
        for data in (bytes(range(length)), b"\xff" * length, bytes(range(200, 200 - length, -1))):
            for seed in (0, 1, 2**63 + 5):
                assert engine.xxh64(data, seed) == xxhash.xxh64_intdigest(data, seed)


@settings(max_examples=500)
@given(st.binary(max_size=600), st.integers(min_value=0, max_value=2**64 - 1))
def test_xxh64_is_xxhash(data: bytes, seed: int) -> None:
    engine = _accel.native
    assert engine is not None
    assert engine.xxh64(data, seed) == xxhash.xxh64_intdigest(data, seed)


# --- rule sets, snapshots and verdicts -----------------------------------------------------

label = st.sampled_from(["a", "b", "ab", "x-y", "www", "c_d", "q1", "r3---sn", "z" * 63])
# what the fast paths must leave alone: hyphens at an edge, a label too long, a digit first
odd_label = st.sampled_from(["-a", "a-", "-", "z" * 64, "9a", "0x1f", "xn--a", "A_"])
labels = st.one_of(label, label, label, odd_label)
hosts = st.one_of(
    st.sampled_from(["a", "b.a", "www.b.a"]),  # a few hosts many rules share
    st.lists(label, min_size=1, max_size=4).map(".".join),
    st.sampled_from(["1.2.3.4", "2001:db8::1", "xn--e1afmkfd.xn--p1ai", "a.xn--p1ai"]),
)
paths = st.sampled_from(["/", "/a", "/a/", "/a/b", "/ab", "", "/%C3%A9", "/é", "/a.b", "/a;c"])


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    host = draw(hosts)
    scope = draw(st.sampled_from(list(Scope)))
    path = draw(paths) if scope is URL else ""
    return Rule(host, scope, draw(st.sampled_from(list(Action))), path, draw(st.integers(0, 9)))


@st.composite
def rule_sets(draw: st.DrawFn) -> list[SourceRules]:
    sources = []
    for index in range(draw(st.integers(0, 6))):
        categories = draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3))
        source = SourceRef(f"s{index % 3}", f"source {index}", draw(st.sampled_from(["1", "v2"])))
        sources.append(SourceRules(source, categories, draw(st.lists(rules(), max_size=25))))
    return sources


@st.composite
def queries(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["", "http://", "https://", "HTTPS://", "ftp://", "//"]))
    name = draw(
        st.one_of(
            hosts,
            st.lists(labels, min_size=1, max_size=5).map(".".join),
            st.sampled_from([NAME_253, NAME_254, NAME_253 + ".", "a." + NAME_253]),
        )
    )
    name = "".join(c.upper() if draw(st.booleans()) else c for c in name)
    dot = draw(st.sampled_from(["", "", "."]))
    port = draw(st.sampled_from(["", "", ":8080"]))
    path = draw(
        st.sampled_from(
            ["", "", "/", "/a", "/a/b?x=1", "/ab#f", "/a;x", "/a.y", "/a/b/c", "/a/../b", "/é"]
        )
    )
    return f"{scheme}{name}{dot}{port}{path}"


masks = st.one_of(
    st.sampled_from([0, 1, 2, 0b11111, -1]), st.integers(min_value=-(2**70), max_value=2**70)
)


def compiled_both(sources: Sequence[SourceRules], categories: Sequence[str], work: Path) -> Path:
    """Compile natively and in Python; the two files must be the same bytes."""
    native = compile_snapshot(sources, categories, work / "native.snap", version="v")
    with _accel.pure_python():
        python = compile_snapshot(sources, categories, work / "python.snap", version="v")
    assert native == python
    assert (work / "native.snap").read_bytes() == (work / "python.snap").read_bytes()
    return work / "native.snap"


def verdicts_agree(path: Path, raw_items: Sequence[str], enabled: int) -> int:
    """Every item gets the same verdict natively and in Python; how many the C side decided."""
    snapshot = Snapshot(path)
    with _accel.pure_python():
        reference = Snapshot(path)
    assert snapshot.native is not None
    assert reference.native is None
    taken = 0
    try:
        for raw in raw_items:
            python = outcome(classify, reference, raw, enabled)
            assert outcome(classify, snapshot, raw, enabled) == python, raw
            taken += snapshot.native.classify(raw, enabled) is not None
            if isinstance(python, tuple) and isinstance(python[0], Target):
                target = python[0]
                for host in (target.host, target.host.upper(), "." + target.host, "é"):
                    for path in ("", target.path, "/a/b", "/é"):
                        assert decide(
                            snapshot, host, path, enabled=enabled, is_ip=target.is_ip
                        ) == decide(reference, host, path, enabled=enabled, is_ip=target.is_ip)
    finally:
        snapshot.close()
        reference.close()
    return taken


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources=rule_sets(), items=st.lists(queries(), min_size=1, max_size=20), enabled=masks)
def test_generated_rule_sets_compile_and_decide_the_same(
    sources: list[SourceRules], items: list[str], enabled: int
) -> None:
    with tempfile.TemporaryDirectory(prefix="native-") as directory:
        path = compiled_both(sources, CATEGORIES, Path(directory))
        listed = [r.host for s in sources for r in s.rules]
        verdicts_agree(path, items + listed + [f"www.{h}/a/b" for h in listed], enabled)


@pytest.fixture(scope="module")
def mixed_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One snapshot with a bit of everything, for the fuzzing of single inputs."""
    listed = ["a", "b.a", "ab", "www.x-y.ab", "c_d.q1", "1.2.3.4", "xn--e1afmkfd.xn--p1ai"]
    sources = [
        SourceRules(
            SourceRef("s", "mixed", "1"),
            ["drugs", "adult"],
            [Rule(h, scope) for h in listed for scope in (EXACT, SUBTREE, SUBDOMAINS)]
            + [Rule(h, URL, ALLOW, path) for h in listed for path in ("/a", "/", "/a/b")],
        ),
        SourceRules(SourceRef("t", "allow", "2"), ["kids_allow"], [Rule("ab", SUBTREE, ALLOW)]),
    ]
    return compiled_both(sources, CATEGORIES, tmp_path_factory.mktemp("mixed"))


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(any_input, url_shaped, queries()))
def test_any_input_gets_the_same_verdict(mixed_snapshot: Path, raw: str) -> None:
    verdicts_agree(mixed_snapshot, [raw], 0b11111)


def test_the_fast_path_decides_plain_names_and_urls(tmp_path: Path) -> None:
    sources = [SourceRules(SourceRef("s", "s", "1"), ["drugs"], [Rule("bad.test", SUBTREE)])]
    path = compiled_both(sources, CATEGORIES, tmp_path)
    plain = ["bad.test", "WWW.Bad.Test.", "https://a.bad.test/x?y", "http://good.test", "x.test/a"]
    assert verdicts_agree(path, plain, -1) == len(plain)
    # left to Python: IP literals, IDN, xn-- labels, ports, userinfo, escapes, dot segments...
    other = ["1.2.3.4", "пример.рф", "xn--p1ai.test", "a.test:80", "u@a.test", "%61.test", "a/./b"]
    other += ["HTTP://a.test", "ftp://a.test", " a.test", "a.test/é", "a.0x1"]
    assert verdicts_agree(path, other, -1) == 0


RULE_PATHS = ["/", "/a", "/a/", "/a/b", "/ab", "/a.b", "/a;c", "/%C3%A9", "/é", ""]
REQUEST_PATHS = ["/a", "/a/", "/a/b", "/a/bc", "/ab", "/a.b", "/a.x", "/a;x", "/a#x", "/a?x"]
REQUEST_PATHS += ["/a%3Bx", "/%C3%A9", "/%C3%A9/x", "/b", "/"]


@pytest.mark.parametrize("rule_path", RULE_PATHS)
def test_url_rule_prefixes_end_at_the_same_boundaries(rule_path: str, tmp_path: Path) -> None:
    rules = [Rule("b.a", URL, ALLOW, rule_path), Rule("a", URL, BLOCK, "/"), Rule("a", SUBTREE)]
    sources = [SourceRules(SourceRef("s", "s", "1"), ["drugs"], rules)]
    path = compiled_both(sources, CATEGORIES, tmp_path)
    items = [f"https://{host}{p}" for host in ("b.a", "x.b.a", "a") for p in REQUEST_PATHS]
    assert verdicts_agree(path, items, -1) == len(items) - 3 * 3  # "?", "#" and "%3B" aside


def test_a_host_with_many_rules(tmp_path: Path) -> None:
    """Past a few rules a host's rules are found through an index: the same table either way."""
    many = [Rule("forum.test", URL, BLOCK, f"/t/{i}") for i in range(40)]
    rules = many + many[::-1] + [Rule("forum.test", SUBTREE, ALLOW)] + many[5:9]
    sources = [
        SourceRules(SourceRef(name, name, "1"), [category], rules)
        for name, category in (("a", "drugs"), ("b", "adult"), ("a", "drugs"))
    ]
    path = compiled_both(sources, CATEGORIES, tmp_path)
    items = [f"forum.test/t/{i}/x" for i in range(45)] + ["www.forum.test/t/3", "forum.test"]
    assert verdicts_agree(path, items, 0b1010) == len(items)


def test_an_unlisted_name_gets_the_shared_decision(tmp_path: Path) -> None:
    path = compiled_both([], CATEGORIES, tmp_path)
    snapshot = Snapshot(path)
    try:
        target, decision = classify(snapshot, "Unlisted.Example", 1)
        assert decision is ALLOW_UNLISTED
        assert target == Target("unlisted.example", "", False)
        assert repr(target) == "Target(host='unlisted.example', path='', is_ip=False)"
    finally:
        snapshot.close()


def test_native_results_are_ordinary_objects(tmp_path: Path) -> None:
    sources = [SourceRules(SourceRef("s", "s", "1"), ["drugs"], [Rule("bad.test", SUBTREE)])]
    snapshot = Snapshot(compiled_both(sources, CATEGORIES, tmp_path))
    try:
        target, decision = classify(snapshot, "https://www.bad.test/p", 2)
        gc.collect()
        assert isinstance(decision, Decision)
        assert decision.rule is not None
        assert (decision.action, decision.categories, decision.rule.host) == (
            BLOCK,
            ("drugs",),
            "bad.test",
        )
        assert decision.rule.source == SourceRef("s", "s", "1")
        assert hash(target) == hash(Target("www.bad.test", "/p", False))
        with pytest.raises(AttributeError):
            target.host = "x"  # type: ignore[misc]
    finally:
        snapshot.close()
    with pytest.raises(ValueError, match=r"closed|released"):
        classify(snapshot, "bad.test", 2)


def test_more_categories_than_the_native_masks_hold(tmp_path: Path) -> None:
    categories = [f"c{i}" for i in range(70)]
    sources = [SourceRules(SourceRef("s", "s", "1"), ["c69", "c1"], [Rule("bad.test", SUBTREE)])]
    path = compiled_both(sources, categories, tmp_path)
    snapshot = Snapshot(path)
    try:
        assert snapshot.native is None  # Python matches
        _, decision = classify(snapshot, "a.bad.test", 1 << 69)
        assert decision.categories == ("c69",)
    finally:
        snapshot.close()


def test_a_host_that_is_not_utf8_is_refused_the_same_way(tmp_path: Path) -> None:
    bad = [SourceRules(SourceRef("s", "s", "1"), ["drugs"], [Rule("a\ud800", EXACT)])]
    native, python = both(compile_snapshot, bad, CATEGORIES, tmp_path / "x", version="v")
    assert isinstance(native, tuple)
    assert isinstance(python, tuple)
    assert native[0] == python[0] == "UnicodeEncodeError"


# --- reading lists -------------------------------------------------------------------------

LINE_SHAPES = [
    "",
    "   ",
    "\t",
    "\x0b",
    "# comment",
    "! comment",
    "!#include x",
    "[Adblock Plus 2.0]",
    "0.0.0.0 {n}",
    "127.0.0.1\t{N}.  # c",
    "0.0.0.0 {n} {n2}",
    ":: {n}",
    "1.2.3.4 {n}",
    "0.0.0.0 localhost",
    "127.0.0.1 LocalHost.",
    "0.0.0.0",  # noqa: S104 - a line of a hosts file
    "{n}",
    "  {N}  ",
    "{n} # listed",
    "{n}\x1c",
    "*.{n}",
    "*.{n}.",
    "*.*.{n}",
    "||{n}^",
    "@@||{N}^",
    "||{n}^$important",
    "||{n}",
    "|{n}^",
    "||*.{n}^",
    "{n}##.ad",
    "{n}/path",
    "{n}/a/../b?q",
    "www.{n}/x",
    "{n} CNAME .",
    "*.{n} CNAME rpz-passthru.",
    "$ORIGIN rpz.test.",
    "xn--e1afmkfd.{n}",
    "пример.{n}",
    "1.2.3.4",
    "-bad.{n}",
    "{long}",
    "\ufeff{n}",
]


@st.composite
def list_files(draw: st.DrawFn) -> bytes:
    names = st.lists(labels, min_size=1, max_size=3).map(".".join)
    lines = []
    for _ in range(draw(st.integers(0, 30))):
        shape = draw(st.sampled_from(LINE_SHAPES))
        name, other = draw(names), draw(names)
        text = shape.format(n=name, N=name.upper(), n2=other, long="a" * 64 + "." + name)
        raw = text.encode()
        if draw(st.integers(0, 15)) == 0:
            raw = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe2\x82"])) + raw
        lines.append(raw)
    end = draw(st.sampled_from([b"\n", b"\r\n", b"\r\r\n"]))
    data = end.join(lines) + draw(st.sampled_from([b"", end]))
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + data


def same_parse(native: object, python: object) -> None:
    assert native == python
    if isinstance(native, tuple) and isinstance(native[1], ParseReport):
        assert [r.line for r in native[0]] == [r.line for r in python[0]]  # type: ignore[index]


@settings(max_examples=300, deadline=None)
@given(
    data=list_files(),
    fmt=st.sampled_from([*Format, None]),
    action=st.sampled_from(list(Action)),
    scope=st.sampled_from([EXACT, SUBTREE, SUBDOMAINS]),
)
def test_generated_lists_parse_the_same(
    data: bytes, fmt: Format | None, action: Action, scope: Scope
) -> None:
    same_parse(*both(parse_bytes, data, fmt, action=action, domains_scope=scope))
    lines = data.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    same_parse(*both(parse, lines, fmt, action=action, domains_scope=scope))


def test_parse_file_reads_a_file_as_parse_bytes_does(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(b"\xef\xbb\xbf||a.example^\r\n@@||B.example.^\r\n||a.example^\r\nx$y\n")
    rules, report = parse_file(path)
    assert [(r.host, r.action, r.line) for r in rules] == [
        ("a.example", BLOCK, 1),
        ("b.example", ALLOW, 2),
    ]
    assert (report.format, report.accepted, report.duplicates, report.rejected_count) == (
        Format.ADBLOCK,
        2,
        1,
        1,
    )
    same_parse(*both(parse_file, path))


@pytest.mark.parametrize(("name", "fmt", "entries"), REAL_LISTS)
def test_real_lists_parse_the_same(blocklists: Path, name: str, fmt: Format, entries: int) -> None:
    path = blocklists / name
    for scope in (SUBTREE, EXACT):
        same_parse(*both(parse_file, path, domains_scope=scope))
    same_parse(*both(parse_file, path, Format.DOMAINS, action=ALLOW))


@pytest.mark.parametrize("category", sorted(UT1_USAGE))
def test_real_ut1_folders_parse_the_same(blocklists: Path, category: str) -> None:
    native, python = both(parse_ut1_folder, blocklists / "ut1" / category)
    assert native == python


def test_real_lists_compile_to_the_same_bytes(blocklists: Path, tmp_path: Path) -> None:
    sources = []
    for index, (name, _, _) in enumerate(REAL_LISTS):
        rules, _ = parse_file(blocklists / name)
        category = CATEGORIES[index % len(CATEGORIES)]
        sources.append(SourceRules(SourceRef(f"s{index}", name, "1"), [category], rules))
    for category in sorted(UT1_USAGE):
        folder = parse_ut1_folder(blocklists / "ut1" / category)
        sources.append(SourceRules(SourceRef(category, category, "7"), ["adult"], folder.rules))
    path = compiled_both(sources, CATEGORIES, tmp_path)
    sample = [r.host for s in sources for r in list(s.rules)[::97]]
    sample += [f"https://www.{h}/a" for h in sample[:500]] + ["unlisted.example"]
    assert verdicts_agree(path, sample, 0b11111) > len(sample) // 2


# --- switching ------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "native"), [("0", False), ("1", True), (None, True)])
def test_filters_native_switches_the_implementation(value: str | None, native: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "FILTERS_NATIVE"}
    if value is not None:
        env["FILTERS_NATIVE"] = value
    code = "from filters.engine import _accel; print(_accel.native is not None)"
    out = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(native)
