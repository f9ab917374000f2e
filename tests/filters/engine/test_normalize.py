"""Normalising names and URLs: a table for every rule, then properties over generated input."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import re
from collections.abc import Callable

import idna
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from filters.engine import normalize
from filters.engine.normalize import (
    InvalidTarget,
    Target,
    normalize_host,
    normalize_path,
    normalize_target,
)

NAME_253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
NAME_254 = NAME_253 + "d"

VALID_TARGETS = [
    # bare names: whitespace, case, one trailing dot
    ("Example.COM.", "example.com", ""),
    ("  www.Example.com\n", "www.example.com", ""),
    ("localhost", "localhost", ""),
    ("_dmarc.Example.com", "_dmarc.example.com", ""),
    ("r3---sn-4g5e6nsz.googlevideo.com", "r3---sn-4g5e6nsz.googlevideo.com", ""),
    ("1password.com", "1password.com", ""),
    ("123abc", "123abc", ""),
    ("a.0xg", "a.0xg", ""),
    ("a" * 63 + ".com", "a" * 63 + ".com", ""),
    (NAME_253 + ".", NAME_253, ""),
    # IDN: UTS-46 non-transitional, A-labels checked
    ("пример.рф", "xn--e1afmkfd.xn--p1ai", ""),
    ("ПРИМЕР.РФ.", "xn--e1afmkfd.xn--p1ai", ""),
    ("XN--E1AFMKFD.xn--P1AI", "xn--e1afmkfd.xn--p1ai", ""),
    ("пример.xn--p1ai", "xn--e1afmkfd.xn--p1ai", ""),
    ("faß.de", "xn--fa-hia.de", ""),
    ("ＥＸＡＭＰＬＥ．com", "example.com", ""),
    ("a。b", "a.b", ""),
    ("exa\u00admple.com", "example.com", ""),
    ("bücher.example", "xn--bcher-kva.example", ""),
    # userinfo and port go, a bare name keeps an empty path
    ("example.com:8080", "example.com", ""),
    ("example.com:", "example.com", ""),
    ("user@example.com", "example.com", ""),
    ("u:p@example.com:00080", "example.com", ""),
    # URLs
    ("https://example.com/a/b", "example.com", "/a/b"),
    ("http://example.com", "example.com", "/"),
    ("HTTPS://user:pw@Пример.рф:8443/a/%7Efoo/../b?q=1#x", "xn--e1afmkfd.xn--p1ai", "/a/b"),
    ("https://www.example.com/watch?v=x#t=1", "www.example.com", "/watch"),
    ("ftp://Files.Example.com/pub/", "files.example.com", "/pub/"),
    ("ws://example.com:0/socket", "example.com", "/socket"),
    ("wss://example.com:65535", "example.com", "/"),
    ("git+ssh://git@example.com/repo", "example.com", "/repo"),
    ("//example.com/x", "example.com", "/x"),
    ("example.com/a/B", "example.com", "/a/B"),
    ("example.com?q", "example.com", "/"),
    ("example.com#top", "example.com", "/"),
    ("http://example.com:/", "example.com", "/"),
    ("http://example.com?q=1", "example.com", "/"),
    ("http://u:p@w@example.com/", "example.com", "/"),
    ("http://example.com.:80/", "example.com", "/"),
    # what browsers do with odd slashes and backslashes
    ("http://evil.com\\@good.com", "evil.com", "/@good.com"),
    ("http:\\\\example.com\\a\\b", "example.com", "/a/b"),
    ("https:example.com", "example.com", "/"),
    ("http:/example.com/a", "example.com", "/a"),
    ("http:///example.com", "example.com", "/"),
    # escapes in the host are decoded as browsers do
    ("http://ex%61mple.com/", "example.com", "/"),
    ("http://%D0%BF%D1%80%D0%B8%D0%BC%D0%B5%D1%80.%D1%80%D1%84/", "xn--e1afmkfd.xn--p1ai", "/"),
    # paths
    ("http://example.com/a/./b/../../c/", "example.com", "/c/"),
    ("http://example.com/%7e%41%2F", "example.com", "/~A%2F"),
    ("http://example.com/a%2e%2E/b/%2E%2E/c", "example.com", "/a../c"),
    ("http://example.com//a//b", "example.com", "//a//b"),
    ("http://example.com/.well-known/x", "example.com", "/.well-known/x"),
    ("http://example.com/путь a", "example.com", "/%D0%BF%D1%83%D1%82%D1%8C%20a"),
    ("http://example.com/a%zz", "example.com", "/a%25zz"),
    # a special scheme followed by a port is a host named like it
    ("ftp:21", "ftp", ""),
    ("http:80/a", "http", "/a"),
]

VALID_IP_TARGETS = [
    ("1.2.3.4", "1.2.3.4", ""),
    ("1.2.3.4.", "1.2.3.4", ""),
    ("255.255.255.255", "255.255.255.255", ""),
    ("0x7f.1", "127.0.0.1", ""),
    ("0X7F.0.0.1", "127.0.0.1", ""),
    ("2130706433", "127.0.0.1", ""),
    ("0x7F000001", "127.0.0.1", ""),
    ("0177.0.0.1", "127.0.0.1", ""),
    ("127.1", "127.0.0.1", ""),
    ("127.0.1", "127.0.0.1", ""),
    ("4294967295", "255.255.255.255", ""),
    ("0", "0.0.0.0", ""),  # noqa: S104 - an address to parse, not one to bind
    ("１２７.０.０.１", "127.0.0.1", ""),
    ("http://1.2.3.4:80/a", "1.2.3.4", "/a"),
    ("http://%31.2.3.4/", "1.2.3.4", "/"),
    ("[::1]", "::1", ""),
    ("::1", "::1", ""),
    ("[::1]:53", "::1", ""),
    ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1", ""),
    ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1", ""),
    ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4", ""),
    ("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0", ""),
    ("[0:0::0:0]", "::", ""),
    ("[0001:0002::]", "1:2::", ""),
    ("::ffff:1.2.3.4", "::ffff:102:304", ""),
    ("http://[2001:DB8::1]:8080/x?y", "2001:db8::1", "/x"),
    ("http://[1:2:3:4:5:6:7::]/", "1:2:3:4:5:6:7:0", "/"),
]

INVALID_TARGETS = [
    ("", "empty"),
    ("   ", "empty"),
    ("http://", "empty-host"),
    ("http://user@/", "empty-host"),
    ("?q", "empty-host"),
    (".", "empty-host"),
    ("..", "empty-label"),
    ("a..b", "empty-label"),
    (".example.com", "empty-label"),
    ("example.com..", "empty-label"),
    ("-a.com", "hyphen-at-label-edge"),
    ("a-.com", "hyphen-at-label-edge"),
    ("www.-a.com", "hyphen-at-label-edge"),
    ("xn--.com", "hyphen-at-label-edge"),
    ("a b.com", "space-in-host"),
    ("http://exa mple.com/", "space-in-host"),
    ("a\tb.com", "control-character"),
    ("example.com\x00", "control-character"),
    ("http://example.com/a\x7f", "control-character"),
    ("http://%00a.com/", "control-character"),
    ("a" * 64 + ".com", "label-too-long"),
    (NAME_254, "name-too-long"),
    ("*.example.com", "bad-character"),
    ("a!b.com", "bad-character"),
    ("http://a%2541.com/", "bad-character"),
    ("http://%zz.com/", "bad-escape"),
    ("http://a%2.com/", "bad-escape"),
    ("http://%ff.com/", "bad-escape"),
    ("example.com:99999", "bad-port"),
    ("example.com:65536", "bad-port"),
    ("example.com:http", "bad-port"),
    ("example.com:-1", "bad-port"),
    ("example.com:+80", "bad-port"),
    ("example.com:1_0", "bad-port"),
    ("example.com:١٢", "bad-port"),
    ("http://example.com:0000000000000000000000000000000000000100000/", "bad-port"),
    ("[::1]x", "bad-port"),
    ("1.2.3.256", "bad-ipv4"),
    ("256.1.1.1", "bad-ipv4"),
    ("1.2.3.4.5", "bad-ipv4"),
    ("1..2.3", "bad-ipv4"),
    ("09.1.1.1", "bad-ipv4"),
    ("4294967296", "bad-ipv4"),
    ("0x100000000", "bad-ipv4"),
    ("1.2.65536", "bad-ipv4"),
    ("example.123", "bad-ipv4"),
    ("http://a.0x1f/", "bad-ipv4"),
    ("9" * 5000, "bad-ipv4"),
    ("[1::2::3]", "bad-ipv6"),
    ("[::1", "bad-ipv6"),
    ("[]", "bad-ipv6"),
    ("[1.2.3.4]", "bad-ipv6"),
    ("[fe80::1%25eth0]", "bad-ipv6"),
    ("fe80::1%eth0", "bad-ipv6"),
    ("[::1.2.3.04]", "bad-ipv6"),
    ("[::1.2.3.256]", "bad-ipv6"),
    ("[12345::]", "bad-ipv6"),
    ("[1:2:3:4:5:6:7:8:9]", "bad-ipv6"),
    ("[1:2:3:4:5:6:7:8::]", "bad-ipv6"),
    ("[1:2:3:4:5:6:7]", "bad-ipv6"),
    ("http://::1/", "ipv6-without-brackets"),
    ("http://example.com/\ud800", "bad-unicode"),
]

# Unicode that UTS-46 / IDNA 2008 refuse; the exact code comes from the idna package.
INVALID_IDNA = [
    "💩.la",  # emoji: valid in UTS-46, disallowed by IDNA 2008
    "xn--ls8h.la",
    "xn--a.com",  # not Punycode
    "xn--abc.com",  # decodes to a disallowed code point
    "xn---bbk.com",  # fake A-label: not the canonical spelling
    "a\u200db.com",  # ZWJ outside its context
    "\u0301a.com",  # leading combining mark
    "ab--ф.com",  # hyphens in the 3rd and 4th positions of a U-label
    "aא.com",  # bidi rule
    "\ud800.com",  # lone surrogate
    "a\u2028b.com",  # line separator
    "ф" * 60 + ".com",  # A-label over 63 characters
    "ф" * 1100,  # longer than idna will look at
]


@pytest.mark.parametrize(("raw", "host", "path"), VALID_TARGETS)
def test_normalize_target_accepts_names_and_urls(raw: str, host: str, path: str) -> None:
    assert normalize_target(raw) == Target(host, path, False)


@pytest.mark.parametrize(("raw", "host", "path"), VALID_IP_TARGETS)
def test_normalize_target_canonicalises_ip_literals(raw: str, host: str, path: str) -> None:
    assert normalize_target(raw) == Target(host, path, True)


@pytest.mark.parametrize(("raw", "reason"), INVALID_TARGETS)
def test_normalize_target_refuses_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidTarget) as caught:
        normalize_target(raw)
    assert caught.value.reason == reason
    assert reason in str(caught.value)


@pytest.mark.parametrize("raw", INVALID_IDNA)
def test_normalize_target_refuses_what_idna_refuses(raw: str) -> None:
    with pytest.raises(InvalidTarget) as caught:
        normalize_target(raw)
    assert caught.value.reason.startswith("idna-") or caught.value.reason == "label-too-long"


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("Example.COM.", "example.com"),
        (" пример.рф ", "xn--e1afmkfd.xn--p1ai"),
        ("xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
        ("0x7f.1", "127.0.0.1"),
        ("[2001:db8::0:1]", "2001:db8::1"),
        ("2001:db8::0:1", "2001:db8::1"),
    ],
)
def test_normalize_host_accepts_a_host_alone(raw: str, host: str) -> None:
    assert normalize_host(raw) == host


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("example.com:80", "bad-character"),
        ("user@example.com", "bad-character"),
        ("example.com/a", "bad-character"),
        ("ex%61mple.com", "bad-character"),
        ("http://example.com", "bad-character"),
        ("[::1]:53", "bad-ipv6"),
        ("a..b", "empty-label"),
        ("1.2.3.256", "bad-ipv4"),
    ],
)
def test_normalize_host_refuses_anything_but_a_host(raw: str, reason: str) -> None:
    with pytest.raises(InvalidTarget) as caught:
        normalize_host(raw)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("/a/%7Efoo/../b", "/a/b"),
        ("/%7e%41%2d%2e%5f%30", "/~A-._0"),
        ("/%2f%3a%c3%a9%7B", "/%2F%3A%C3%A9%7B"),
        ("/a%zz", "/a%25zz"),
        ("/a%", "/a%25"),
        ("/a%4", "/a%254"),
        ("/a b", "/a%20b"),
        ("/é", "/%C3%A9"),
        ('/"<>[]^`{|}', "/%22%3C%3E%5B%5D%5E%60%7B%7C%7D"),
        ("/!$&'()*+,;=:@", "/!$&'()*+,;=:@"),
        ("/A/b/C", "/A/b/C"),
        ("/a//b/", "/a//b/"),
        ("/a/./b", "/a/b"),
        ("/a/b/.", "/a/b/"),
        ("/a/b/..", "/a/"),
        ("/..", "/"),
        ("/../a", "/a"),
        ("/a/.b/..c/", "/a/.b/..c/"),
        ("/a/.%2E/b", "/b"),
        ("/a/%2E/b", "/a/b"),
        ("", "/"),
        ("  /a  ", "/a"),
        ("a/b", "/a/b"),
        ("/a?b=/../c#d", "/a"),
        ("\\a\\b", "/a/b"),
    ],
)
def test_normalize_path(raw: str, path: str) -> None:
    assert normalize_path(raw) == path
    assert normalize_path(path) == path


@pytest.mark.parametrize(
    ("raw", "reason"), [("/a\nb", "control-character"), ("/\udfff", "bad-unicode")]
)
def test_normalize_path_refuses(raw: str, reason: str) -> None:
    with pytest.raises(InvalidTarget) as caught:
        normalize_path(raw)
    assert caught.value.reason == reason


def test_target_from_the_fast_path_is_an_ordinary_frozen_target() -> None:
    fast = normalize_target("www.Example.com")
    assert fast == Target("www.example.com", "", False)
    assert hash(fast) == hash(Target("www.example.com", "", False))
    assert repr(fast) == "Target(host='www.example.com', path='', is_ip=False)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.host = "other.example"  # type: ignore[misc]


def test_invalid_target_is_a_value_error_carrying_its_reason() -> None:
    error = InvalidTarget("bad-port", "x" * 1000)
    assert isinstance(error, ValueError)
    assert error.reason == "bad-port"
    assert len(str(error)) < 300
    assert str(InvalidTarget("empty")) == "empty"


# --- properties --------------------------------------------------------------------------------

HOST_RE = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9_-]{1,63}(?<!-))*")
PATH_RE = re.compile(r"/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*")
NUMBER_RE = re.compile(r"[0-9]+|0x[0-9a-f]*")

# Characters that exercise every branch: separators, escapes, brackets, IDN, digits, controls.
FUZZ_ALPHABET = "aZx0n19fF-_.%:@/\\?#[]ß П。．\u200d\u0301١ａ１\t\x00ü*é"
fuzz_text = st.text(alphabet=FUZZ_ALPHABET, max_size=30)
schemes = st.sampled_from(
    ["", "http://", "HTTPS://", "ftp://", "ws:", "https:", "https:///", "//", "x+y://", "http:\\\\"]
)
userinfos = st.sampled_from(["", "u@", "u:p@", "@", "a@b@"]) | fuzz_text.map(
    lambda text: text + "@"
)
ports = st.sampled_from(["", ":", ":80", ":65536", ":x", ":0080"]) | st.text(
    alphabet="0123456789", max_size=7
).map(lambda digits: ":" + digits)
ip_like = st.lists(
    st.sampled_from(["0", "1", "255", "256", "0x7f", "0X", "017", "08", "4294967295", ""]),
    min_size=1,
    max_size=5,
).map(".".join)
ipv6_like = st.lists(
    st.sampled_from(["", "0", "1", "ffff", "12345", "1.2.3.4", "g"]), min_size=1, max_size=10
).map(lambda pieces: "[" + ":".join(pieces) + "]")
hosts = st.one_of(fuzz_text, ip_like, ipv6_like, st.sampled_from(["пример.рф", "xn--p1ai", "a.b."]))
paths = st.sampled_from(["", "/"]) | fuzz_text.map(lambda text: "/" + text)
url_shaped = st.tuples(schemes, userinfos, hosts, ports, paths).map("".join)
any_input = st.one_of(st.text(), url_shaped)


def outcome(function: Callable[[str], Target], raw: str) -> Target | str:
    try:
        return function(raw)
    except InvalidTarget as error:
        return error.reason


def assert_well_formed(target: Target) -> None:
    if target.is_ip:
        address = ipaddress.ip_address(target.host)
        # Python 3.13 writes IPv4-mapped addresses with a dotted tail; WHATWG does not.
        if not isinstance(address, ipaddress.IPv6Address) or address.ipv4_mapped is None:
            assert target.host == address.compressed
    else:
        assert HOST_RE.fullmatch(target.host)
        assert len(target.host) <= 253
    if target.path:
        assert PATH_RE.fullmatch(target.path)
        assert not re.search(r"%(2[DE]|3[0-9]|[46][1-9A-F]|[57][0-9A]|5F|7E)", target.path)
        assert not re.search(r"/\.\.?(/|$)", target.path)


@settings(max_examples=500, deadline=None)
@given(any_input)
def test_nothing_but_invalid_target_escapes(raw: str) -> None:
    for function in (normalize_target, normalize_host, normalize_path):
        with contextlib.suppress(InvalidTarget):
            function(raw)


@settings(max_examples=500, deadline=None)
@given(any_input)
def test_results_are_well_formed_and_stable(raw: str) -> None:
    try:
        target = normalize_target(raw)
    except InvalidTarget:
        return
    assert_well_formed(target)
    assert normalize_host(target.host) == target.host
    assert normalize_target(target.host) == Target(target.host, "", target.is_ip)
    authority = f"[{target.host}]" if ":" in target.host else target.host
    url = f"http://{authority}{target.path or '/'}"
    assert normalize_target(url) == Target(target.host, target.path or "/", target.is_ip)
    if target.path:
        assert normalize_path(target.path) == target.path


@settings(max_examples=300, deadline=None)
@given(url_shaped)
def test_fast_path_agrees_with_the_general_path(raw: str) -> None:
    assert outcome(normalize_target, raw) == outcome(normalize._parse_target, raw)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aZ0-_/.%~é ?#\\!:@", max_size=30))
def test_paths_are_well_formed_and_stable(raw: str) -> None:
    path = normalize_path(raw)
    assert PATH_RE.fullmatch(path)
    assert normalize_path(path) == path


# No label can spell a scheme ("http", "ws"...): "ws:/a" is a URL, not the host ws and a path.
labels = st.text(alphabet="abcxyz0129_-", min_size=1, max_size=63).map(
    lambda text: text.strip("-") or "a"
)
plain_names = (
    st.lists(labels, min_size=1, max_size=4)
    .map(".".join)
    .filter(lambda name: len(name) <= 253 and not NUMBER_RE.fullmatch(name.rpartition(".")[2]))
)
plain_paths = st.lists(st.text(alphabet="aZ09_~-", max_size=6), max_size=4).map(
    lambda segments: "".join("/" + segment for segment in segments)
)


@settings(max_examples=300, deadline=None)
@given(
    name=plain_names,
    case_bits=st.integers(min_value=0, max_value=(1 << 256) - 1),
    dot=st.sampled_from(["", "."]),
    scheme=st.sampled_from(["", "http://", "HTTPS://", "ftp://", "//"]),
    userinfo=st.sampled_from(["", "user@", "user:pass@"]),
    port=st.sampled_from(["", ":80", ":8443", ":"]),
    path=plain_paths,
)
def test_valid_names_round_trip(
    name: str, case_bits: int, dot: str, scheme: str, userinfo: str, port: str, path: str
) -> None:
    assume(not (port == ":" and path.startswith("//")))  # "a://x" is a scheme, not an empty port
    cased = "".join(c.upper() if case_bits >> i & 1 else c for i, c in enumerate(name))
    raw = f"{scheme}{userinfo}{cased}{dot}{port}{path}"
    expected_path = path or ("/" if scheme else "")
    assert normalize_target(raw) == Target(name, expected_path, False)
    assert normalize_host(cased + dot) == name


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abz09-.ßПрфüÜ。ＡＢ\u00ad", min_size=1, max_size=25))
def test_agrees_with_idna_encode_where_idna_accepts(name: str) -> None:
    try:
        expected = idna.encode(name, uts46=True).decode("ascii").removesuffix(".")
    except idna.IDNAError:
        return
    assume(not NUMBER_RE.fullmatch(expected.rpartition(".")[2]))
    assert normalize_host(name) == expected
