"""Blocklist formats: what each line means, that every line is counted once, and the real lists."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from filters.engine.formats import detect_format, parse, parse_file, parse_ut1_folder
from filters.engine.rules import Action, Format, ParseReport, Rule, Scope

pytestmark = pytest.mark.usefixtures("implementation")  # native and pure Python

BLOCK, ALLOW = Action.BLOCK, Action.ALLOW
EXACT, SUBTREE, SUBDOMAINS, URL = Scope.EXACT, Scope.SUBTREE, Scope.SUBDOMAINS, Scope.URL

SKIP = "skipped"


@dataclass(frozen=True)
class Rejected:
    reason: str  # a part of the expected reason


Expected = list[tuple[str, Scope, Action] | tuple[str, Scope, Action, str]] | Rejected | str


def shape(rules: list[Rule]) -> list[tuple[str, Scope, Action, str]]:
    return [(r.host, r.scope, r.action, r.path) for r in rules]


def balanced(report: ParseReport) -> bool:
    counted = report.accepted + report.duplicates + report.skipped + report.rejected_count
    return report.lines_read == counted


def check_line(fmt: Format, line: str, expected: Expected, domains_scope: Scope = SUBTREE) -> None:
    """Parse one line and check what it gave and how it was counted."""
    rules, report = parse([line], fmt, domains_scope=domains_scope)
    assert report.lines_read == 1
    assert balanced(report)
    if expected == SKIP:
        assert (rules, report.skipped) == ([], 1)
    elif isinstance(expected, Rejected):
        assert rules == []
        assert len(report.rejected) == 1, report
        rejection = report.rejected[0]
        assert expected.reason in rejection.reason
        assert (rejection.line, rejection.text) == (1, line.strip())
    else:
        assert isinstance(expected, list)
        want = [(*item, "") if len(item) == 3 else item for item in expected]
        assert shape(rules) == want
        assert report.accepted == 1
        assert all(rule.line == 1 for rule in rules)


# --- hosts -----------------------------------------------------------------------------------

HOSTS_CASES: list[tuple[str, Expected]] = [
    ("0.0.0.0 ads.example.com", [("ads.example.com", EXACT, BLOCK)]),
    (
        "127.0.0.1 a.example b.example # two",
        [("a.example", EXACT, BLOCK), ("b.example", EXACT, BLOCK)],
    ),
    (":: v6.example", [("v6.example", EXACT, BLOCK)]),
    ("::1\tv6.example", [("v6.example", EXACT, BLOCK)]),
    ("0:0:0:0:0:0:0:0 long.example", [("long.example", EXACT, BLOCK)]),
    ("  0.0.0.0   Mixed.Example.COM.  ", [("mixed.example.com", EXACT, BLOCK)]),
    ("0.0.0.0 bücher.de", [("xn--bcher-kva.de", EXACT, BLOCK)]),
    ("0.0.0.0 1.2.3.4", [("1.2.3.4", EXACT, BLOCK)]),
    ("127.0.0.1 localhost real.example", [("real.example", EXACT, BLOCK)]),
    ("127.0.0.1 localhost", SKIP),
    ("127.0.0.1 localhost.localdomain", SKIP),
    ("127.0.0.1 local", SKIP),
    ("255.255.255.255 broadcasthost", SKIP),
    ("::1 localhost ip6-localhost ip6-loopback", SKIP),
    ("fe80::1%lo0 localhost", SKIP),
    ("ff02::1 ip6-allnodes", SKIP),
    ("0.0.0.0 0.0.0.0", SKIP),
    ("# a comment", SKIP),
    ("", SKIP),
    ("   ", SKIP),
    ("1.2.3.4 redirect.example", Rejected("address 1.2.3.4 is a redirect")),
    ("10.0.0.1 walled.example", Rejected("redirect")),
    ("ads.example.com", Rejected("expected an address followed by host names")),
    ("ads.example.com other.example", Rejected("not an IP address: 'ads.example.com'")),
    ("0.0.0.0 bad!.example", Rejected("invalid name: bad-character")),
    ("0.0.0.0 good.example bad..example", Rejected("bad..example: invalid name: empty-label")),
    ("0.0.0.0 *.wild.example", Rejected("invalid name")),
]


@pytest.mark.parametrize(("line", "expected"), HOSTS_CASES)
def test_hosts_line(line: str, expected: Expected) -> None:
    check_line(Format.HOSTS, line, expected)


def test_hosts_counts_every_line_once() -> None:
    lines = [
        "# Title: test",  # 1 skipped
        "0.0.0.0 a.example b.example",  # 2 accepted: two rules
        "0.0.0.0 a.example",  # 3 duplicate
        "127.0.0.1 b.example c.example",  # 4 accepted: c is new
        "0.0.0.0 localhost",  # 5 skipped
        "1.2.3.4 d.example",  # 6 rejected
        "",  # 7 skipped
        "0.0.0.0 A.EXAMPLE.",  # 8 duplicate once normalised
    ]
    rules, report = parse(lines, Format.HOSTS)
    assert [(r.host, r.line) for r in rules] == [
        ("a.example", 2),
        ("b.example", 2),
        ("c.example", 4),
    ]
    assert (report.lines_read, report.accepted, report.duplicates, report.skipped) == (8, 2, 2, 3)
    assert [(r.line, r.text) for r in report.rejected] == [(6, "1.2.3.4 d.example")]
    assert balanced(report)


# --- domains, UT1 domains, wildcard ----------------------------------------------------------

DOMAINS_CASES: list[tuple[str, Expected]] = [
    ("phish.example", [("phish.example", SUBTREE, BLOCK)]),
    ("Phish.Example. # inline comment", [("phish.example", SUBTREE, BLOCK)]),
    ("_srv-like.example", [("_srv-like.example", SUBTREE, BLOCK)]),
    ("bücher.de", [("xn--bcher-kva.de", SUBTREE, BLOCK)]),
    ("192.0.2.7", [("192.0.2.7", EXACT, BLOCK)]),
    ("# comment", SKIP),
    ("! comment", SKIP),
    ("", SKIP),
    ("two names.example", Rejected("expected one name a line")),
    ("0.0.0.0 hosts.example", Rejected("expected one name a line")),
    ("*.wild.example", Rejected("invalid name: bad-character")),
    ("||adblock.example^", Rejected("invalid name")),
    ("-edge.example", Rejected("invalid name: hyphen-at-label-edge")),
    ("double..dot", Rejected("invalid name: empty-label")),
    ("1.2.3.256", Rejected("invalid name: bad-ipv4")),
]


@pytest.mark.parametrize(("line", "expected"), DOMAINS_CASES)
def test_domains_line(line: str, expected: Expected) -> None:
    check_line(Format.DOMAINS, line, expected)


@pytest.mark.parametrize(("line", "expected"), DOMAINS_CASES)
def test_ut1_domains_line(line: str, expected: Expected) -> None:
    check_line(Format.UT1_DOMAINS, line, expected)


@pytest.mark.parametrize(
    ("scope", "line", "expected"),
    [
        (EXACT, "phish.example", [("phish.example", EXACT, BLOCK)]),
        (SUBTREE, "phish.example", [("phish.example", SUBTREE, BLOCK)]),
        (SUBDOMAINS, "phish.example", [("phish.example", SUBDOMAINS, BLOCK)]),
        (EXACT, "192.0.2.7", [("192.0.2.7", EXACT, BLOCK)]),
        (SUBDOMAINS, "192.0.2.7", Rejected("an IP address has no subdomains")),
    ],
)
def test_domains_scope_is_the_callers(scope: Scope, line: str, expected: Expected) -> None:
    check_line(Format.DOMAINS, line, expected, domains_scope=scope)


def test_ut1_domains_ignore_domains_scope() -> None:
    rules, _ = parse(["casino.example"], Format.UT1_DOMAINS, domains_scope=EXACT)
    assert shape(rules) == [("casino.example", SUBTREE, BLOCK, "")]


def test_action_allow_imports_an_allow_list() -> None:
    rules, _ = parse(["kids.example", "# c"], Format.DOMAINS, action=ALLOW)
    assert shape(rules) == [("kids.example", SUBTREE, ALLOW, "")]


def test_url_scope_is_not_a_domains_scope() -> None:
    with pytest.raises(ValueError, match="domains_scope"):
        parse(["a.example"], Format.DOMAINS, domains_scope=URL)


WILDCARD_CASES: list[tuple[str, Expected]] = [
    ("*.proxy.example", [("proxy.example", SUBTREE, BLOCK)]),
    ("proxy.example", [("proxy.example", SUBTREE, BLOCK)]),
    ("*.Proxy.Example. # comment", [("proxy.example", SUBTREE, BLOCK)]),
    ("192.0.2.7", [("192.0.2.7", EXACT, BLOCK)]),
    ("# Title", SKIP),
    ("", SKIP),
    ("*", Rejected("'*' alone would match every name")),
    ("*.*", Rejected("'*' alone would match every name")),
    ("a.*.example", Rejected("'*' is allowed only as a leading '*.' label")),
    ("*.a.*.example", Rejected("'*' is allowed only as a leading '*.' label")),
    ("*proxy.example", Rejected("'*' is allowed only as a leading '*.' label")),
    ("*.192.0.2.7", Rejected("an IP address has no subdomains")),
    ("*.bad!.example", Rejected("invalid name: bad-character")),
    ("two names", Rejected("expected one name a line")),
]


@pytest.mark.parametrize(("line", "expected"), WILDCARD_CASES)
def test_wildcard_line(line: str, expected: Expected) -> None:
    check_line(Format.WILDCARD, line, expected)


def test_wildcard_and_bare_name_are_the_same_rule() -> None:
    rules, report = parse(["*.proxy.example", "proxy.example"], Format.WILDCARD)
    assert shape(rules) == [("proxy.example", SUBTREE, BLOCK, "")]
    assert (report.accepted, report.duplicates) == (1, 1)


# --- AdBlock ---------------------------------------------------------------------------------

ADBLOCK_CASES: list[tuple[str, Expected]] = [
    ("||ads.example^", [("ads.example", SUBTREE, BLOCK)]),
    ("||ads.example^|", [("ads.example", SUBTREE, BLOCK)]),
    ("||ads.example", [("ads.example", SUBTREE, BLOCK)]),
    ("||Ads.Example.^", [("ads.example", SUBTREE, BLOCK)]),
    ("@@||ok.example^", [("ok.example", SUBTREE, ALLOW)]),
    ("|exact.example^", [("exact.example", EXACT, BLOCK)]),
    ("|exact.example|", [("exact.example", EXACT, BLOCK)]),
    ("@@|exact.example^", [("exact.example", EXACT, ALLOW)]),
    ("plain.example", [("plain.example", EXACT, BLOCK)]),
    ("@@plain.example", [("plain.example", EXACT, ALLOW)]),
    ("ends.example^", [("ends.example", SUBTREE, BLOCK)]),
    ("||*.sub.example^", [("sub.example", SUBDOMAINS, BLOCK)]),
    ("*.sub.example^", [("sub.example", SUBDOMAINS, BLOCK)]),
    (".sub.example^", [("sub.example", SUBDOMAINS, BLOCK)]),
    ("||ads.example^$important", [("ads.example", SUBTREE, BLOCK)]),
    ("@@||ok.example^$Important", [("ok.example", SUBTREE, ALLOW)]),
    ("||bücher.de^", [("xn--bcher-kva.de", SUBTREE, BLOCK)]),
    ("||192.0.2.7^", [("192.0.2.7", EXACT, BLOCK)]),
    ("! Title: list", SKIP),
    ("!#if (adguard_app_android)", SKIP),
    ("# also a comment", SKIP),
    ("## section ##", SKIP),
    ("[Adblock Plus 2.0]", SKIP),
    ("[AdGuard]", SKIP),
    ("", SKIP),
    ("||ads.example^$third-party", Rejected("unsupported modifier: third-party")),
    ("||ads.example^$script,important", Rejected("unsupported modifier: script")),
    ("||ads.example^$domain=a.example", Rejected("unsupported modifier: domain=a.example")),
    ("||ads.example^$denyallow=a.example|b.example", Rejected("unsupported modifier: denyallow")),
    ("||ads.example^$client=127.0.0.1", Rejected("unsupported modifier: client=127.0.0.1")),
    ("||ads.example^$dnsrewrite=1.2.3.4", Rejected("unsupported modifier: dnsrewrite")),
    ("||ads.example^$dnstype=AAAA", Rejected("unsupported modifier: dnstype=AAAA")),
    ("||ads.example^$badfilter", Rejected("unsupported modifier: badfilter")),
    ("||ads.example^$ctag=device_phone", Rejected("unsupported modifier: ctag")),
    ("@@||ok.example^$client=kid", Rejected("unsupported modifier: client=kid")),
    ("||ads.example^$", Rejected("empty modifier list")),
    ("||ads.example^$important,", Rejected("unsupported modifier: (empty)")),
    ("example.com##.banner", Rejected("cosmetic rule")),
    ("##.banner", Rejected("cosmetic rule")),
    ("example.com#@#.banner", Rejected("cosmetic rule")),
    ("example.com#?#div:has(> a)", Rejected("cosmetic rule")),
    ("#$#body { color: red }", Rejected("cosmetic rule")),
    ("example.com$$script[data-ad]", Rejected("HTML filtering rule")),
    ("/ads[0-9]+\\.example/", Rejected("regular expression rules not supported")),
    ("@@/ok\\.example/$important", Rejected("regular expression rules not supported")),
    ("/banner/ads", Rejected("rule with a path")),
    ("||ads.example^/path", Rejected("rule with a path")),
    ("||ads.example/path", Rejected("rule with a path")),
    ("|https://ads.example^", Rejected("rule with a scheme")),
    ("://ads.", Rejected("rule with a scheme")),
    ("||ad*.example^", Rejected("wildcard inside the name not supported")),
    ("||ads.example.*^", Rejected("wildcard inside the name not supported")),
    ("|*.sub.example^", Rejected("wildcard inside the name not supported")),
    ("||*^", Rejected("'*' alone would match every name")),
    ("*", Rejected("'*' alone would match every name")),
    ("||a^b.example^", Rejected("separator inside the pattern")),
    ("||ads.example^ # note", Rejected("unexpected blank inside the rule")),
    ("||", Rejected("empty pattern")),
    ("||*.192.0.2.7^", Rejected("an IP address has no subdomains")),
    ("||bad!.example^", Rejected("invalid name: bad-character")),
    ("!#include https://example.org/more.txt", Rejected("!#include directive not supported")),
]


@pytest.mark.parametrize(("line", "expected"), ADBLOCK_CASES)
def test_adblock_line(line: str, expected: Expected) -> None:
    check_line(Format.ADBLOCK, line, expected)


def test_adblock_allow_list_keeps_exceptions_allowed() -> None:
    rules, _ = parse(["||kids.example^", "@@||also.example^"], Format.ADBLOCK, action=ALLOW)
    assert [(r.host, r.action) for r in rules] == [("kids.example", ALLOW), ("also.example", ALLOW)]


def test_adblock_block_and_exception_are_different_rules() -> None:
    lines = ["||x.example^", "@@||x.example^", "||x.example^$important"]
    rules, report = parse(lines, Format.ADBLOCK)
    assert [(r.action, r.line) for r in rules] == [(BLOCK, 1), (ALLOW, 2)]
    assert (report.accepted, report.duplicates) == (2, 1)


# --- RPZ -------------------------------------------------------------------------------------

RPZ_CASES: list[tuple[str, Expected]] = [
    ("bad.example CNAME .", [("bad.example", EXACT, BLOCK)]),
    ("*.bad.example CNAME .", [("bad.example", SUBDOMAINS, BLOCK)]),
    ("nodata.example 300 IN CNAME *.", [("nodata.example", EXACT, BLOCK)]),
    ("drop.example IN 1h CNAME rpz-drop.", [("drop.example", EXACT, BLOCK)]),
    ("ok.example CNAME rpz-passthru.", [("ok.example", EXACT, ALLOW)]),
    ("*.ok.example cname RPZ-PASSTHRU.", [("ok.example", SUBDOMAINS, ALLOW)]),
    ("abs.example. CNAME .", [("abs.example", EXACT, BLOCK)]),
    ("bad.example CNAME . ; trailing comment", [("bad.example", EXACT, BLOCK)]),
    ("; a comment", SKIP),
    ("$TTL 300", SKIP),
    ("@ IN NS localhost.", SKIP),
    ("", SKIP),
    ("redirect.example A 10.0.0.1", Rejected("local data (redirect) not supported: A record")),
    ("redirect.example AAAA ::1", Rejected("local data (redirect) not supported: AAAA")),
    ("note.example TXT hello", Rejected("local data (redirect) not supported: TXT")),
    ("walled.example CNAME garden.example.", Rejected("local data (redirect) not supported")),
    ("rel.example CNAME rpz-passthru", Rejected("relative (meant 'rpz-passthru.'?)")),
    ("tcp.example CNAME rpz-tcp-only.", Rejected("rpz-tcp-only. action not supported")),
    ("32.1.2.0.192.rpz-ip CNAME .", Rejected("rpz-ip trigger not supported")),
    ("24.0.2.0.192.rpz-client-ip CNAME rpz-drop.", Rejected("rpz-client-ip trigger")),
    ("ns.evil.example.rpz-nsdname CNAME .", Rejected("rpz-nsdname trigger not supported")),
    ("32.1.2.0.192.rpz-nsip CNAME .", Rejected("rpz-nsip trigger not supported")),
    ("* CNAME .", Rejected("'*' alone would match every name")),
    ("a.*.example CNAME .", Rejected("'*' is allowed only as the leftmost label")),
    ("@ CNAME .", Rejected("record at the zone apex")),
    ("two.example CNAME a. b.", Rejected("CNAME record without exactly one target")),
    ("notype.example 300 IN", Rejected("record without a type")),
    ("   CNAME .", Rejected("record without an owner name")),
    ("$INCLUDE other.zone", Rejected("$INCLUDE not supported")),
    ("$GENERATE 1-9 host$ CNAME .", Rejected("$GENERATE directive not supported")),
    ("bad!.example CNAME .", Rejected("invalid name: bad-character")),
]


@pytest.mark.parametrize(("line", "expected"), RPZ_CASES)
def test_rpz_line(line: str, expected: Expected) -> None:
    check_line(Format.RPZ, line, expected)


RPZ_ZONE = """\
$TTL 300
$ORIGIN rpz.test.
@ IN SOA localhost. admin.example. (
        2024010101 ; serial
        3600       ; refresh
        600 86400 60 )
  IN NS localhost.
; QNAME triggers
bad.example             CNAME .
*.bad.example           CNAME .
nodata.example 60 IN    CNAME *.
*.sub.example           CNAME rpz-drop.
ok.bad.example          CNAME rpz-passthru.
*.ok.bad.example        CNAME rpz-passthru.
abs.example.rpz.test.   CNAME .
other.zone.             CNAME .
redirect.example        A 10.0.0.1
tcp.example             CNAME rpz-tcp-only.
owner.example           CNAME garden.example.
                        CNAME rpz-drop.
bad.example             CNAME .
$ORIGIN section.rpz.test.
www                     CNAME .
"""


def test_rpz_zone() -> None:
    rules, report = parse(RPZ_ZONE.splitlines(), Format.RPZ)
    assert [(*item, r.line) for r, item in zip(rules, shape(rules), strict=True)] == [
        ("bad.example", SUBTREE, BLOCK, "", 9),  # line 10 (*.bad.example) merged into it
        ("nodata.example", EXACT, BLOCK, "", 11),
        ("sub.example", SUBDOMAINS, BLOCK, "", 12),
        ("ok.bad.example", SUBTREE, ALLOW, "", 13),  # line 14 merged into it
        ("abs.example", EXACT, BLOCK, "", 15),
        ("owner.example", EXACT, BLOCK, "", 20),  # a blank owner is the previous line's
        ("www.section", EXACT, BLOCK, "", 23),
    ]
    assert report.lines_read == 23
    # skipped: $TTL, $ORIGIN x2, the SOA and its 3 continuation lines, NS, the comment
    assert report.skipped == 9
    # accepted: one per rule; duplicates: the two merged halves and the repeated bad.example
    assert (report.accepted, report.duplicates) == (7, 3)
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejected] == [
        (16, "name outside the zone rpz.test."),
        (17, "local data (redirect) not supported"),
        (18, "rpz-tcp-only. action not supported"),
        (19, "local data (redirect) not supported"),
    ]
    assert balanced(report)


def test_rpz_pairs_merge_only_with_the_same_action() -> None:
    lines = ["a.example CNAME .", "*.a.example CNAME rpz-passthru.", "*.b.example CNAME ."]
    lines += ["b.example CNAME rpz-drop."]
    rules, report = parse(lines, Format.RPZ)
    assert [(*item, r.line) for r, item in zip(rules, shape(rules), strict=True)] == [
        ("a.example", EXACT, BLOCK, "", 1),
        ("a.example", SUBDOMAINS, ALLOW, "", 2),
        ("b.example", SUBTREE, BLOCK, "", 3),  # the first of the pair gives the line
    ]
    assert (report.accepted, report.duplicates) == (3, 1)


def test_rpz_origin_from_the_soa_owner() -> None:
    lines = [
        "rpz.example. 3600 IN SOA ns.rpz.example. admin.rpz.example. 1 3600 600 86400 60",
        "bad.example CNAME .",
        "abs.example.rpz.example. CNAME .",
        "elsewhere.example. CNAME .",
    ]
    rules, report = parse(lines, Format.RPZ)
    assert [r.host for r in rules] == ["bad.example", "abs.example"]
    assert [r.line for r in report.rejected] == [4]


def test_rpz_without_origin_takes_names_as_written() -> None:
    rules, _ = parse(["bad.example. CNAME .", "rel.example CNAME ."], Format.RPZ)
    assert [r.host for r in rules] == ["bad.example", "rel.example"]


def test_rpz_action_allow_applies_to_blocking_records() -> None:
    lines = ["a.example CNAME .", "b.example CNAME rpz-passthru."]
    rules, _ = parse(lines, Format.RPZ, action=ALLOW)
    assert [r.action for r in rules] == [ALLOW, ALLOW]


# --- UT1 URLs --------------------------------------------------------------------------------

UT1_URL_CASES: list[tuple[str, Expected]] = [
    ("forum.example/suicide", [("forum.example", URL, BLOCK, "/suicide")]),
    ("forum.example/a/b/", [("forum.example", URL, BLOCK, "/a/b/")]),
    ("Forum.Example/Case/Kept", [("forum.example", URL, BLOCK, "/Case/Kept")]),
    ("forum.example/cgi?ring=x;next", [("forum.example", URL, BLOCK, "/cgi")]),
    ("forum.example/a/../b", [("forum.example", URL, BLOCK, "/b")]),
    ("forum.example/[x]/y.htm", [("forum.example", URL, BLOCK, "/%5Bx%5D/y.htm")]),
    ("forum.example/~user", [("forum.example", URL, BLOCK, "/~user")]),
    ("www.forum.example/x", [("forum.example", URL, BLOCK, "/x")]),
    ("www2.forum.example/x", [("forum.example", URL, BLOCK, "/x")]),
    ("ftp.forum.example/x", [("forum.example", URL, BLOCK, "/x")]),
    ("www.example/x", [("www.example", URL, BLOCK, "/x")]),
    ("wwwx.forum.example/x", [("wwwx.forum.example", URL, BLOCK, "/x")]),
    ("192.0.2.7/x", [("192.0.2.7", URL, BLOCK, "/x")]),
    ("forum.example", [("forum.example", SUBTREE, BLOCK)]),
    ("forum.example/", [("forum.example", SUBTREE, BLOCK)]),
    ("192.0.2.7", [("192.0.2.7", EXACT, BLOCK)]),
    ("", SKIP),
    ("# comment", SKIP),
    ("http://forum.example/x", Rejected("URL with a scheme")),
    ("forum.example/a b", Rejected("expected one URL a line")),
    ("bad..example/x", Rejected("invalid name: empty-label")),
    ("/no-host", Rejected("invalid name")),
]


@pytest.mark.parametrize(("line", "expected"), UT1_URL_CASES)
def test_ut1_url_line(line: str, expected: Expected) -> None:
    check_line(Format.UT1_URLS, line, expected)


def test_ut1_urls_that_differ_only_in_query_are_duplicates() -> None:
    lines = ["ring.example/cgi?ring=a;next", "ring.example/cgi?ring=b;prev", "ring.example/cgi"]
    rules, report = parse(lines, Format.UT1_URLS)
    assert shape(rules) == [("ring.example", URL, BLOCK, "/cgi")]
    assert (report.accepted, report.duplicates) == (1, 2)


# --- reading, detection, the API -------------------------------------------------------------


def test_parse_file_handles_bom_crlf_and_undecodable_lines(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(
        b"\xef\xbb\xbfone.example\r\nb\xfcbad.example\r\n\r\nbcher.de\r\nl\xc3\xa4st.example"
    )
    rules, report = parse_file(path, Format.DOMAINS)
    assert [(r.host, r.line) for r in rules] == [
        ("one.example", 1),
        ("bcher.de", 4),
        ("xn--lst-qla.example", 5),
    ]
    assert (report.lines_read, report.accepted, report.skipped) == (5, 3, 1)
    assert [(r.line, r.text, r.reason) for r in report.rejected] == [
        (2, "b\ufffdbad.example", "not valid UTF-8")
    ]


def test_parse_file_bom_before_a_comment(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(b"\xef\xbb\xbf# Title\n0.0.0.0 a.example\n")
    rules, report = parse_file(path)
    assert report.format is Format.HOSTS
    assert (report.lines_read, report.skipped, len(rules)) == (2, 1, 1)


def test_parse_file_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    rules, report = parse_file(path, Format.UT1_URLS)
    assert (rules, report.lines_read) == ([], 0)
    with pytest.raises(ValueError, match="no entries"):
        parse_file(path)


def test_parse_strips_line_ends_and_a_bom() -> None:
    rules, report = parse(["\ufeff||a.example^\r\n", "||b.example^\n"], Format.ADBLOCK)
    assert [r.host for r in rules] == ["a.example", "b.example"]
    assert report.rejected == []


def test_parse_detects_from_an_iterator() -> None:
    def lines() -> Iterator[str]:
        yield "# hosts"
        yield "0.0.0.0 a.example"

    rules, report = parse(lines())
    assert report.format is Format.HOSTS
    assert shape(rules) == [("a.example", EXACT, BLOCK, "")]


def test_explicit_format_overrides_detection() -> None:
    rules, report = parse(["0.0.0.0 a.example", "0.0.0.0 b.example"], Format.DOMAINS)
    assert rules == []
    assert [r.reason for r in report.rejected] == ["expected one name a line"] * 2


def test_parse_refuses_a_single_string() -> None:
    with pytest.raises(TypeError, match="splitlines"):
        parse("a.example\nb.example")


DETECT_CASES: list[tuple[list[str], Format]] = [
    (["# c", "0.0.0.0 a.example", "127.0.0.1 b.example"], Format.HOSTS),
    (["! c", "||a.example^", "@@||b.example^", "c.example"], Format.ADBLOCK),
    (["[Adblock Plus 2.0]", "a.example"], Format.ADBLOCK),
    (["*.a.example", "*.b.example", "c.example"], Format.WILDCARD),
    (["a.example", "b.example"], Format.DOMAINS),
    (["a.example # listed in 2020", "b.example\t# IN A list"], Format.DOMAINS),
    (["a.example/x/^^_y_^^", "b.example/z;list"], Format.UT1_URLS),
    (["a.example/path", "b.example", "192.0.2.1/x"], Format.UT1_URLS),
    (["$TTL 300", "a.example CNAME ."], Format.RPZ),
    (["; zone", "@ 300 IN SOA ns. admin. 1 2 3 4 5", "a.example CNAME ."], Format.RPZ),
    (["a.example CNAME .", "*.b.example CNAME rpz-passthru."], Format.RPZ),
    # only the first 200 entries count
    ([f"n{i}.example" for i in range(200)] + ["0.0.0.0 a.example"] * 300, Format.DOMAINS),
]


@pytest.mark.parametrize(("lines", "fmt"), DETECT_CASES)
def test_detect_format(lines: list[str], fmt: Format) -> None:
    assert detect_format(lines) is fmt


@pytest.mark.parametrize(
    "lines",
    [[], ["# only", "! comments", ""], ["<html>", "<body>", "<p>Not found</p>"]],
)
def test_detect_format_refuses(lines: list[str]) -> None:
    with pytest.raises(ValueError, match="no"):
        detect_format(lines)


# --- UT1 folders -----------------------------------------------------------------------------


def ut1_folder(root: Path, usage: str | None, domains: str | None, urls: str | None) -> Path:
    folder = root / "category"
    folder.mkdir()
    for name, text in (("usage", usage), ("domains", domains), ("urls", urls)):
        if text is not None:
            (folder / name).write_text(text)
    return folder


def test_ut1_folder_white_is_an_allow_list(tmp_path: Path) -> None:
    folder = ut1_folder(
        tmp_path,
        "white\nchild\n",
        "kids.example\n192.0.2.1\n",
        "kids.example/\nfun.example/games\n",
    )
    category = parse_ut1_folder(folder)
    assert (category.name, category.action) == ("category", ALLOW)
    assert shape(category.rules) == [
        ("kids.example", SUBTREE, ALLOW, ""),
        ("192.0.2.1", EXACT, ALLOW, ""),
        ("fun.example", URL, ALLOW, "/games"),
    ]
    urls = category.reports["urls"]
    assert (urls.format, urls.accepted, urls.duplicates) == (Format.UT1_URLS, 1, 1)
    assert category.reports["domains"].format is Format.UT1_DOMAINS


def test_ut1_folder_black_without_urls(tmp_path: Path) -> None:
    category = parse_ut1_folder(ut1_folder(tmp_path, "black\n", "casino.example\n", None))
    assert category.action is BLOCK
    assert list(category.reports) == ["domains"]


@pytest.mark.parametrize(
    ("usage", "message"),
    [(None, "missing"), ("", "'black' or 'white'"), ("black\nwhite\n", "only one")],
)
def test_ut1_folder_needs_a_clear_usage(tmp_path: Path, usage: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_ut1_folder(ut1_folder(tmp_path, usage, "a.example\n", None))


def test_ut1_folder_needs_a_list(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no domains or urls"):
        parse_ut1_folder(ut1_folder(tmp_path, "black\n", None, None))


# --- the real lists (shared/data/blocklists) -------------------------------------------------

# (path, format detected, entries). Entry counts are the README's, except where noted.
REAL_LISTS = [
    ("blocklistproject/drugs.hosts.txt", Format.HOSTS, 26_029),
    ("blocklistproject/drugs.adguard.txt", Format.ADBLOCK, 26_029),
    # README says 190,216; the file's own header and its non-comment lines say 190,215.
    ("blocklistproject/phishing.domains.txt", Format.DOMAINS, 190_215),
    ("hagezi/doh-vpn-proxy-bypass.wildcard.txt", Format.WILDCARD, 714),
    # README says ~140; the file's header ("Domains: 135") and its lines say 135.
    ("hagezi/nosafesearch.wildcard.txt", Format.WILDCARD, 135),
    ("ut1/drogue/domains", Format.DOMAINS, 603),
    ("ut1/agressif/domains", Format.DOMAINS, 360),
    ("ut1/dangerous_material/domains", Format.DOMAINS, 35),
    ("ut1/doh/domains", Format.DOMAINS, 3_015),
    ("ut1/vpn/domains", Format.DOMAINS, 6_039),
    ("ut1/stalkerware/domains", Format.DOMAINS, 525),
    ("ut1/gambling/domains", Format.DOMAINS, 32_247),
    ("ut1/child/domains", Format.DOMAINS, 75),
    ("ut1/drogue/urls", Format.UT1_URLS, 464),
    ("ut1/agressif/urls", Format.UT1_URLS, 36),
    ("ut1/dangerous_material/urls", Format.UT1_URLS, 19),
    ("ut1/gambling/urls", Format.UT1_URLS, 5),
    ("ut1/child/urls", Format.UT1_URLS, 2),
]

# The only rejections the real lists may give: emoji names, which IDNA 2008 disallows.
KNOWN_REJECTED = {
    "blocklistproject/phishing.domains.txt": {"xn--17g.ws", "www.xn--17g.ws"},
}

UT1_USAGE = {
    "agressif": BLOCK,
    "child": ALLOW,
    "dangerous_material": BLOCK,
    "doh": BLOCK,
    "drogue": BLOCK,
    "gambling": BLOCK,
    "stalkerware": BLOCK,
    "vpn": BLOCK,
}


def count_lines(path: Path) -> int:
    data = path.read_bytes()
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


@pytest.mark.parametrize(("name", "fmt", "entries"), REAL_LISTS)
def test_real_list_detected(blocklists: Path, name: str, fmt: Format, entries: int) -> None:
    lines = (blocklists / name).read_text("utf-8").splitlines()
    assert detect_format(lines) is fmt


@pytest.mark.parametrize(("name", "fmt", "entries"), REAL_LISTS)
def test_real_list_accounts_for_every_line(
    blocklists: Path, name: str, fmt: Format, entries: int
) -> None:
    path = blocklists / name
    rules, report = parse_file(path)
    assert report.format is fmt
    assert report.lines_read == count_lines(path)
    assert report.accepted + report.duplicates + report.rejected_count == entries
    assert balanced(report)
    assert len(rules) >= report.accepted
    lines = path.read_text("utf-8").splitlines()
    for rejection in report.rejected:
        assert rejection.reason
        assert rejection.text == lines[rejection.line - 1].strip()
    assert {r.text for r in report.rejected} <= KNOWN_REJECTED.get(name, set())
    assert all(lines[rule.line - 1].strip() for rule in rules)


def test_real_drugs_hosts_and_adguard_lists_name_the_same_hosts(blocklists: Path) -> None:
    hosts, _ = parse_file(blocklists / "blocklistproject/drugs.hosts.txt")
    adguard, _ = parse_file(blocklists / "blocklistproject/drugs.adguard.txt")
    assert {r.scope for r in hosts} == {EXACT}
    assert {r.scope for r in adguard} == {SUBTREE}
    assert {r.host for r in hosts} == {r.host for r in adguard}
    assert len(hosts) == len(adguard) == 26_029


@pytest.mark.parametrize(("category", "action"), sorted(UT1_USAGE.items()))
def test_real_ut1_category(blocklists: Path, category: str, action: Action) -> None:
    folder = blocklists / "ut1" / category
    parsed = parse_ut1_folder(folder)
    assert (parsed.name, parsed.action) == (category, action)
    assert {r.action for r in parsed.rules} == {action}
    for name, report in parsed.reports.items():
        assert report.lines_read == count_lines(folder / name)
        assert balanced(report)
    assert sorted(parsed.reports) == sorted(p.name for p in folder.iterdir() if p.name != "usage")
    ips = [r for r in parsed.rules if r.host[0].isdigit() and r.host.replace(".", "").isdigit()]
    assert all(r.scope in (EXACT, URL) for r in ips)


def test_real_ut1_child_is_an_allow_list(blocklists: Path) -> None:
    child = parse_ut1_folder(blocklists / "ut1" / "child")
    assert child.action is ALLOW
    assert len(child.rules) == 77
    assert {r.action for r in child.rules} == {ALLOW}
    assert (child.reports["domains"].accepted, child.reports["urls"].accepted) == (75, 2)


def test_real_ut1_ip_entries_are_exact(blocklists: Path) -> None:
    category = parse_ut1_folder(blocklists / "ut1" / "agressif")
    by_host = {r.host: r for r in category.rules if r.scope is not URL}
    assert by_host["118.123.4.224"].scope is EXACT
    assert by_host["14words.com"].scope is SUBTREE
