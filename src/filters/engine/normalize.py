"""Bring a name or URL, as the resolver, the browser or a blocklist writes it, into one form.

Two spellings of the same place must compare equal, or a rule is bypassed by writing the name
differently; the forms produced here are the ones ``rules.Rule`` stores. Where browsers and the
RFCs differ, browsers win (the WHATWG URL standard), since a browser is what connects.

Hosts
- Surrounding whitespace (as ``str.strip`` sees it) is stripped; any other C0 control
  character or DEL is refused.
- ``scheme://`` (any scheme) or a leading ``//`` is dropped. ``http``, ``https``, ``ws``, ``wss``
  and ``ftp`` may have any number of slashes (``https:example.com``, ``http:///example.com``),
  as browsers read them, unless what follows the colon is a port: ``ftp:21`` is the host
  ``ftp``. Userinfo (up to the last ``@`` before the path) and the port are dropped; a port is
  ASCII digits worth at most 65535, or empty (``example.com:/``), as in browsers.
- Percent-escapes in a target's host are decoded as UTF-8 first, as browsers do
  (``ex%61mple.com`` is ``example.com``); a ``%`` without two hex digits, or bytes that are not
  UTF-8, make it invalid. ``normalize_host`` takes no escapes, ports or userinfo.
- One trailing dot is removed; the name is case-folded and mapped to A-labels with UTS-46
  (non-transitional, the ``idna`` package). ``xn--`` labels must be valid, canonical Punycode.
- A label is 1-63 characters of ``a-z 0-9 - _`` and neither starts nor ends with a hyphen.
  Underscores are allowed because real blocklists and service names use them; ``--`` in the
  third and fourth positions (``r3---sn-abc.googlevideo.com``) is allowed in ASCII labels, as
  DNS allows it. A Unicode label must pass IDNA 2008 (hyphens, bidi, context rules), so emoji
  names are refused. The whole name is at most 253 characters.
- IP literals follow WHATWG: a host whose last label is a number (decimal, ``0x`` hex, or octal
  with a leading zero) is an IPv4 address or invalid. ``2130706433``, ``0x7f.1`` and
  ``0177.0.0.1`` all become ``127.0.0.1``; ``1.2.3.256`` and ``example.123`` are invalid. IPv6
  is bracketed in a URL, bare or bracketed alone; zone ids are refused. ``ipaddress`` parses it,
  but it is written here as WHATWG writes it (lowercase, the longest run of zero groups as
  ``::``, no dotted IPv4 tail), since ``ipaddress`` writes IPv4-mapped addresses differently
  from Python 3.13 on.

Paths (the query and fragment are dropped)
- Backslashes before the query count as slashes, whatever the scheme, as browsers do for
  http(s): ``http://evil.com\\@good.com`` is ``evil.com`` with path ``/@good.com``.
- Escapes of unreserved characters (``A-Z a-z 0-9 - . _ ~``) are decoded, the hex of every other
  escape is uppercased, and a ``%`` without two hex digits becomes ``%25``; nothing else is
  decoded. A character RFC 3986 does not allow raw in a path (space, non-ASCII,
  ``" < > [ ] ^ ` { | }``) is percent-encoded as UTF-8, so a path written raw in a list and the
  same path as a browser sends it agree.
- ``.`` and ``..`` segments are resolved (RFC 3986 remove_dot_segments, after decoding, so
  ``%2E%2E`` counts); nothing else is collapsed and case is kept.
- A bare name has path ``""``. Anything with a scheme, ``//``, ``/``, ``?`` or ``#`` is a URL,
  and its empty path is ``/``.

Plain ASCII names and plain ``http(s)`` URLs take a fast path (one regular expression and a
``str.lower``); everything else takes the general path, which gives the same answers. IDNA
checks of single labels are cached, since the resolver sees the same ``xn--`` labels again and
again.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

import idna

__all__ = ["InvalidTarget", "Target", "normalize_host", "normalize_path", "normalize_target"]


class InvalidTarget(ValueError):
    """A name or URL that cannot be normalised; ``reason`` says why, e.g. ``"bad-port"``."""

    def __init__(self, reason: str, raw: str | None = None) -> None:
        super().__init__(reason if raw is None else f"{reason}: {raw[:200]!r}")
        self.reason = reason
        self.raw = raw


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    path: str
    is_ip: bool


_MAX_NAME = 253
_MAX_LABEL = 63
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

# A plain name for the fast paths: labels of letters, digits, "_" and inner hyphens, the last one
# not starting with a digit (a name ending in a number is an IPv4 literal or nothing). Possessive
# quantifiers keep the match from backtracking; label lengths are checked after it.
_LABEL_BODY = r"[A-Za-z0-9_]++(?:-++[A-Za-z0-9_]++)*+"
_PLAIN_NAME = rf"((?:{_LABEL_BODY}\.)*(?![0-9]){_LABEL_BODY})\.?"
_CLEAN_PATH = r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*"

_FAST_HOST_RE = re.compile(_PLAIN_NAME)
_FAST_TARGET_RE = re.compile(
    rf"(https?://)?{_PLAIN_NAME}(?:({_CLEAN_PATH})(?:[?#][^\x00-\x1f\x7f]*)?)?"
)
_CLEAN_PATH_RE = re.compile(_CLEAN_PATH)
_LONG_LABEL_RE = re.compile(r"[^.]{64}")
_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_LABEL_CHARS_RE = re.compile(r"[a-z0-9_-]+")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(//)?")
_PORT_RE = re.compile(r"(?:[0-9]+(?:/|$)|$)")  # what may follow a host and its colon
_QUERY_OR_FRAGMENT_RE = re.compile(r"[?#]")
_BAD_ESCAPE_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PATH_FIX_RE = re.compile(r"%([0-9A-Fa-f]{2})?|[^A-Za-z0-9\-._~!$&'()*+,;=:@/]")
_DIGITS_RE = re.compile(r"[0-9]+")
_RADIX_DIGITS_RE = {10: _DIGITS_RE, 8: re.compile(r"[0-7]+"), 16: re.compile(r"[0-9a-f]+")}


def normalize_target(raw: str) -> Target:
    """Normalise a bare name, an IP literal or a URL into the host and path rules match on."""
    match = _FAST_TARGET_RE.fullmatch(raw)
    if match is not None:
        scheme, host, path = match.groups()
        host = host.lower()
        if (len(host) <= _MAX_LABEL or _lengths_fit(host)) and (
            "xn--" not in host or _alabels_valid(host)
        ):
            if path is None:
                path = "" if scheme is None else "/"
            elif "/." in path:
                path = _remove_dot_segments(path)
            target = _new_target(Target)
            _set_host(target, host)
            _set_path(target, path)
            _set_is_ip(target, False)
            return target
    return _parse_target(raw)


def normalize_host(raw: str) -> str:
    """Normalise a host name or IP literal given alone (no scheme, port, path or escapes)."""
    match = _FAST_HOST_RE.fullmatch(raw)
    if match is not None:
        host = match.group(1).lower()
        if (len(host) <= _MAX_LABEL or _lengths_fit(host)) and (
            "xn--" not in host or _alabels_valid(host)
        ):
            return host
    text = _clean(raw)
    if text.startswith("[") and text.endswith("]"):
        return _ipv6(text[1:-1], raw)
    if text.count(":") > 1:
        return _ipv6(text, raw)
    return _name(text, raw)[0]


def normalize_path(raw: str) -> str:
    """Normalise a URL path (``/a/%7efoo/../b``) as a list's URL rule gives it, for prefixes.

    A missing leading ``/`` is added, and a query or fragment is dropped as ``normalize_target``
    drops it: a rule keeping its query could never match.
    """
    text = raw.strip()
    if _CONTROL_RE.search(text):
        raise InvalidTarget("control-character", raw)
    cut = _QUERY_OR_FRAGMENT_RE.search(text)
    if cut is not None:
        text = text[: cut.start()]
    text = text.replace("\\", "/")
    if not text.startswith("/"):
        text = "/" + text
    return _path(text, raw)


# A frozen dataclass's __init__ goes through object.__setattr__ for every field, which costs about
# as much as the rest of the fast path; the slots' own descriptors store the same values directly.
_new_target = object.__new__
_set_host = Target.__dict__["host"].__set__
_set_path = Target.__dict__["path"].__set__
_set_is_ip = Target.__dict__["is_ip"].__set__


def _lengths_fit(name: str) -> bool:
    return len(name) <= _MAX_NAME and _LONG_LABEL_RE.search(name) is None


def _alabels_valid(name: str) -> bool:
    return all(_idna_label(label)[1] is None for label in name.split(".") if label[:4] == "xn--")


def _clean(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise InvalidTarget("empty", raw)
    if _CONTROL_RE.search(text):
        raise InvalidTarget("control-character", raw)
    return text


def _parse_target(raw: str) -> Target:
    """The general path: any scheme, userinfo, port, escapes, IP literals, IDN and path fixes."""
    text = _clean(raw)
    cut = _QUERY_OR_FRAGMENT_RE.search(text)
    is_url = cut is not None
    if cut is not None:
        text = text[: cut.start()]
    text = text.replace("\\", "/")
    scheme = _SCHEME_RE.match(text)
    if (
        scheme is not None
        and scheme.group(1).lower() in _SPECIAL_SCHEMES
        and (scheme.group(2) or not _PORT_RE.match(text, scheme.end()))
    ):
        text, is_url = text[scheme.end() :].lstrip("/"), True
    elif scheme is not None and scheme.group(2):
        text, is_url = text[scheme.end() :], True
    elif text.startswith("//"):
        text, is_url = text[2:], True
    authority, slash, path = text.partition("/")
    if slash:
        path, is_url = _path(slash + path, raw), True
    elif is_url:
        path = "/"
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):
        inside, bracket, port = authority[1:].partition("]")
        if not bracket:
            raise InvalidTarget("bad-ipv6", raw)
        if port and port[0] != ":":
            raise InvalidTarget("bad-port", raw)
        _check_port(port[1:], raw)
        return Target(_ipv6(inside, raw), path, True)
    if authority.count(":") > 1:
        if is_url:
            raise InvalidTarget("ipv6-without-brackets", raw)
        return Target(_ipv6(authority, raw), path, True)
    host, _, port = authority.partition(":")
    _check_port(port, raw)
    if "%" in host:
        host = _percent_decode(host, raw)
    name, is_ip = _name(host, raw)
    return Target(name, path, is_ip)


def _check_port(port: str, raw: str) -> None:
    """Accept ASCII digits worth at most 65535 (leading zeros allowed), or nothing."""
    if port and (not _DIGITS_RE.fullmatch(port) or len(port.lstrip("0")) > 5 or int(port) > 65535):
        raise InvalidTarget("bad-port", raw)


def _percent_decode(host: str, raw: str) -> str:
    if _BAD_ESCAPE_RE.search(host):
        raise InvalidTarget("bad-escape", raw)
    try:
        decoded = unquote(host, errors="strict")
    except UnicodeDecodeError:
        raise InvalidTarget("bad-escape", raw) from None
    if _CONTROL_RE.search(decoded):
        raise InvalidTarget("control-character", raw)
    return decoded


def _name(host: str, raw: str) -> tuple[str, bool]:
    """Normalise a host name (no port or brackets); an IPv4 literal gives ``(quad, True)``."""
    if host.isascii():
        mapped = host.lower()  # for ASCII, this is all UTS-46 mapping does
    else:
        try:
            mapped = idna.uts46_remap(host, std3_rules=False)
        except idna.IDNAError as error:
            raise InvalidTarget(_idna_reason(error), raw) from None
    if mapped.endswith("."):
        mapped = mapped[:-1]
    if not mapped:
        raise InvalidTarget("empty-host", raw)
    if _ends_in_number(mapped):
        return _ipv4(mapped, raw), True
    name = ".".join([_label(label, raw) for label in mapped.split(".")])
    if len(name) > _MAX_NAME:
        raise InvalidTarget("name-too-long", raw)
    return name, False


def _label(label: str, raw: str) -> str:
    """Check one lowercase label, or convert a Unicode one to its A-label."""
    if not label.isascii() or (label[:4] == "xn--" and _LABEL_RE.fullmatch(label)):
        alabel, reason = _idna_label(label)
        if reason is not None:
            raise InvalidTarget(reason, raw)
        return alabel
    if len(label) <= _MAX_LABEL and _LABEL_RE.fullmatch(label):
        return label
    if not label:
        raise InvalidTarget("empty-label", raw)
    if len(label) > _MAX_LABEL:
        raise InvalidTarget("label-too-long", raw)
    if _LABEL_CHARS_RE.fullmatch(label):
        raise InvalidTarget("hyphen-at-label-edge", raw)
    if " " in label:
        raise InvalidTarget("space-in-host", raw)
    raise InvalidTarget("bad-character", raw)


@lru_cache(maxsize=4096)
def _idna_label(label: str) -> tuple[str, str | None]:
    """``(A-label, None)`` for a Unicode or ``xn--`` label, or ``("", reason)``.

    Cached, because the resolver sees names in A-label form only and idna's checks cost tens of
    microseconds, while the labels in use (``xn--p1ai`` for .рф first) are few.
    """
    try:
        if label.isascii():
            idna.ulabel(label)
            alabel = label
        else:
            alabel = idna.alabel(label).decode("ascii")
    except idna.IDNAError as error:
        return "", _idna_reason(error)
    if len(alabel) > _MAX_LABEL:
        return "", "label-too-long"
    return alabel, None


def _idna_reason(error: idna.IDNAError) -> str:
    # ``IDNAError.code`` is recent; with an older idna the reason is just "idna-invalid".
    code = getattr(error, "code", None) or "invalid"
    return "idna-" + str(code).replace("_", "-")


def _ends_in_number(name: str) -> bool:
    """WHATWG's "ends in a number": such a host is an IPv4 address or invalid."""
    last = name.rpartition(".")[2]
    return _DIGITS_RE.fullmatch(last) is not None or _ipv4_number(last) is not None


def _ipv4_number(part: str) -> int | None:
    """A WHATWG IPv4 number: decimal, ``0x`` hex or ``0``-prefixed octal; ``None`` if not one."""
    radix = 10
    if part.startswith(("0x", "0X")):
        part, radix = part[2:].lower(), 16
        if not part:
            return 0
    elif len(part) > 1 and part[0] == "0":
        part, radix = part[1:], 8
    if not _RADIX_DIGITS_RE[radix].fullmatch(part):
        return None
    if len(part.lstrip("0")) > 12:
        return 1 << 64  # too big anyway; spares int() a huge string
    return int(part, radix)


def _ipv4(name: str, raw: str) -> str:
    parts = name.split(".")
    if len(parts) > 4:
        raise InvalidTarget("bad-ipv4", raw)
    numbers: list[int] = []
    for part in parts:
        number = _ipv4_number(part)
        if number is None:
            raise InvalidTarget("bad-ipv4", raw)
        numbers.append(number)
    *head, value = numbers
    if any(number > 255 for number in head) or value >= 256 ** (4 - len(head)):
        raise InvalidTarget("bad-ipv4", raw)
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def _ipv6(text: str, raw: str) -> str:
    """Parse an IPv6 literal without brackets and write it as WHATWG does."""
    if "%" in text:  # a zone id means nothing away from the machine that wrote it
        raise InvalidTarget("bad-ipv6", raw)
    try:
        value = int(ipaddress.IPv6Address(text))
    except ValueError:
        raise InvalidTarget("bad-ipv6", raw) from None
    groups = [value >> shift & 0xFFFF for shift in range(112, -1, -16)]
    # The longest run of two or more zero groups (the first one on a tie) becomes "::".
    best_start, best_length, index = -1, 1, 0
    while index < 8:
        end = index
        while end < 8 and groups[end] == 0:
            end += 1
        if end - index > best_length:
            best_start, best_length = index, end - index
        index = end + 1
    if best_start < 0:
        return ":".join(f"{group:x}" for group in groups)
    head = ":".join(f"{group:x}" for group in groups[:best_start])
    tail = ":".join(f"{group:x}" for group in groups[best_start + best_length :])
    return f"{head}::{tail}"


def _path(path: str, raw: str) -> str:
    """Normalise a path that starts with ``/``, its query, fragment and backslashes gone."""
    if not _CLEAN_PATH_RE.fullmatch(path):
        try:
            path = _PATH_FIX_RE.sub(_fix_path_character, path)
        except UnicodeEncodeError:  # a lone surrogate
            raise InvalidTarget("bad-unicode", raw) from None
    if "/." in path:
        path = _remove_dot_segments(path)
    return path


def _fix_path_character(match: re.Match[str]) -> str:
    escape = match.group(1)
    if escape is not None:
        character = chr(int(escape, 16))
        return character if character in _UNRESERVED else "%" + escape.upper()
    text = match.group()
    if text == "%":
        return "%25"
    return "".join(f"%{byte:02X}" for byte in text.encode("utf-8"))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, for a path that starts with ``/``."""
    segments = path.split("/")[1:]
    last = len(segments) - 1
    output: list[str] = []
    for index, segment in enumerate(segments):
        if segment == "..":
            if output:
                output.pop()
            if index == last:
                output.append("")
        elif segment == ".":
            if index == last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)
