"""The UDP fast path answers exactly what the Python front end would, counts every answer for
the child, and lets go of an answer as soon as the front end might decide differently."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import dns.edns
import dns.message
import dns.rcode
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filters.check.router import Subject
from filters.check.service import default_profile
from filters.dns.fastpath import Memo, native_fast_path
from filters.dns.frontend import FrontEnd
from filters.dns.server import DnsServer, serve_dns
from filters.engine.profile import CategorySetting, Mode, PersonalEntry, Profile, Window
from filters.engine.rules import Action, Rule, Scope, SourceRef
from filters.engine.snapshot import SourceRules, compile_snapshot
from filters.engine.store import SnapshotStore
from tests.filters.dns.conftest import NOW, OPTION_CODE, FrontFactory

FastPath = native_fast_path()
pytestmark = pytest.mark.skipif(FastPath is None, reason="the native fast path is not built")
CHILD = uuid.UUID("00000000-0000-0000-0000-0000000000c1")
LINE = b"+77071234567"


@dataclass
class Lines:
    """Who is asking: the line option ``LINE`` is a child's line, anyone else the default."""

    child_profile: Profile = field(default_factory=lambda: default_profile("Asia/Almaty"))
    asked: int = 0

    async def __call__(
        self, source: str, line_option: bytes | None, client_subnet: bytes | None
    ) -> Subject | None:
        self.asked += 1
        if line_option == LINE:
            return Subject(self.child_profile, CHILD)
        return Subject(default_profile("Asia/Almaty"))


@dataclass
class Pair:
    """A front end behind the fast path; ``python`` asks it without the fast path (its own
    upstream cache, so both render the same upstream answer)."""

    fast: FrontEnd
    server: DnsServer
    memo: Memo
    lines: Lines

    async def ask(self, wire: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            await loop.sock_sendto(sock, wire, ("127.0.0.1", self.server.port))
            async with asyncio.timeout(3):
                return await loop.sock_recv(sock, 65_535)

    async def python(self, wire: bytes) -> bytes:
        (answer,) = await self.fast.handle(wire, "127.0.0.1", limit_udp=True)
        return answer

    @property
    def answered(self) -> int:
        return self.memo.native.stats()["answered"]


@pytest.fixture
async def pair(make_front: FrontFactory) -> AsyncIterator[Pair]:
    assert FastPath is not None
    lines = Lines()
    fast = make_front()
    fast.identify = lines
    memo = Memo(FastPath(1000, 1000, OPTION_CODE), subject_seconds=60, max_ttl=86_400)
    fast.memo = memo
    server = await serve_dns(fast, "127.0.0.1", 0)
    yield Pair(fast, server, memo, lines)
    await server.close()


def query(name: str, rtype: str = "A", ident: int = 1, **edns: object) -> bytes:
    message = dns.message.make_query(name, rtype, **edns)  # type: ignore[arg-type]
    message.id = ident
    return message.to_wire()


QUERIES = [
    ("weed.test", "A", {}),
    ("www.WEED.test", "A", {"use_edns": 0}),
    ("casino.test", "AAAA", {"use_edns": 0, "want_dnssec": True}),
    ("casino.test", "MX", {"use_edns": 0}),
    ("OK.test", "A", {}),
    ("ok.test", "A", {"use_edns": 0, "payload": 4096}),
    ("nowhere.test", "A", {"use_edns": 0}),
    ("big.test", "TXT", {"use_edns": 0, "payload": 4096}),
    ("big.test", "TXT", {}),  # 512 bytes at most: truncated
    ("weed.test", "A", {"use_edns": 0, "options": [dns.edns.GenericOption(OPTION_CODE, LINE)]}),
    ("ok.test", "A", {"use_edns": 0, "options": [dns.edns.GenericOption(OPTION_CODE, LINE)]}),
]


async def test_repeated_questions_get_from_c_what_python_would_send(pair: Pair) -> None:
    for number, (name, rtype, edns) in enumerate(QUERIES):
        first = await pair.ask(query(name, rtype, 100 + number, **edns))
        assert first == await pair.python(query(name, rtype, 100 + number, **edns)), name
        before = pair.answered
        again = query(name, rtype, 200 + number, **edns)
        assert await pair.ask(again) == await pair.python(again), name
        assert pair.answered == before + 1, f"{name} {rtype} was not answered by the fast path"


async def test_every_answer_is_counted_for_the_child(pair: Pair) -> None:
    option = {"use_edns": 0, "options": [dns.edns.GenericOption(OPTION_CODE, LINE)]}
    for ident in range(5):
        await pair.ask(query("weed.test", "A", ident, **option))
        await pair.ask(query("ok.test", "A", 50 + ident, **option))
    await pair.ask(query("weed.test", "A", 99))  # the default profile: counted for nobody
    assert pair.answered == 8  # the first of each name was decided in Python
    await pair.server.fast.count()  # type: ignore[union-attr]
    counts = pair.fast.activity.take(NOW).counts
    day = NOW.date()
    assert counts == {(CHILD, day, "drugs", "block"): 5, (CHILD, day, "", "allow"): 5}


async def test_a_new_snapshot_applies_to_the_next_query(pair: Pair, store: SnapshotStore) -> None:
    assert dns.message.from_wire(await pair.ask(query("weed.test", "A", 1))).answer
    await pair.ask(query("weed.test", "A", 2))
    assert pair.answered == 1
    sources = [
        SourceRules(SourceRef("g", "g", "2"), ["gambling"], [Rule("casino.test", Scope.SUBTREE)])
    ]
    compile_snapshot(sources, ["gambling"], store.path_for("2"), version="2")
    store.activate("2")
    answer = dns.message.from_wire(await pair.ask(query("weed.test", "A", 3)))
    assert (answer.rcode(), answer.answer) == (dns.rcode.NXDOMAIN, [])  # forwarded now
    assert pair.answered == 1


async def test_an_edited_profile_reaches_a_busy_line_after_its_refresh(pair: Pair) -> None:
    pair.memo.subject_seconds = 0.2
    option = {"use_edns": 0, "options": [dns.edns.GenericOption(OPTION_CODE, LINE)]}
    blocked = dns.message.from_wire(await pair.ask(query("weed.test", "A", 1, **option)))
    assert blocked.options  # the EDE of a block
    settings = dict(pair.lines.child_profile.categories)
    settings["drugs"] = CategorySetting(Mode.OFF)
    pair.lines.child_profile = Profile("Asia/Almaty", settings)
    await asyncio.sleep(0.3)
    asked = pair.lines.asked
    stale = dns.message.from_wire(await pair.ask(query("weed.test", "A", 2, **option)))
    assert stale.options  # answered from the old identity while the line is identified again
    for _ in range(50):
        if pair.lines.asked > asked:
            break
        await asyncio.sleep(0.01)
    fresh = dns.message.from_wire(await pair.ask(query("weed.test", "A", 3, **option)))
    assert (fresh.rcode(), fresh.options) == (dns.rcode.NXDOMAIN, ())


def test_scheduled_and_temporary_verdicts_say_until_when_they_hold() -> None:
    now = datetime(2026, 11, 25, 9, 0, 30, tzinfo=UTC)
    plain = default_profile("Asia/Almaty")
    assert plain.steady_until(now) is None
    night = Window(frozenset(range(7)), time(21, 0), time(7, 0))
    scheduled = Profile("Asia/Almaty", {"drugs": CategorySetting(Mode.SCHEDULED, (night,))})
    assert scheduled.steady_until(now) == datetime(2026, 11, 25, 9, 1, tzinfo=UTC)
    odd = Window(frozenset({0}), time(21, 0, 15), time(7, 0))
    to_the_second = Profile("UTC", {"drugs": CategorySetting(Mode.SCHEDULED, (odd,))})
    assert to_the_second.steady_until(now) == now + timedelta(seconds=1)
    soon = now + timedelta(seconds=12)
    temporary = Profile(
        "UTC",
        {},
        (
            PersonalEntry("weed.test", Scope.EXACT, Action.ALLOW, soon),
            PersonalEntry("old.test", Scope.EXACT, Action.ALLOW, now - timedelta(days=1)),
        ),
    )
    assert temporary.steady_until(now) == soon


class Socket:
    """A UDP server socket read by ``FastPath.serve`` directly, and a client to send from."""

    def __init__(self) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.setblocking(False)
        self.client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.client.settimeout(0.2)
        self.client.bind(("127.0.0.1", 0))

    def send(self, packet: bytes) -> None:
        self.client.sendto(packet, self.server.getsockname())

    def receive(self, timeout: float = 0.2) -> bytes | None:
        self.client.settimeout(timeout or None)
        if not timeout:
            self.client.setblocking(False)
        try:
            return self.client.recv(65_535)
        except (TimeoutError, BlockingIOError):
            return None

    def close(self) -> None:
        self.server.close()
        self.client.close()


@pytest.fixture
def sockets() -> AsyncIterator[Socket]:
    pair = Socket()
    yield pair  # type: ignore[misc]
    pair.close()


def remember(native: object, name: bytes, *, expires: float, profile: int = 0) -> None:
    native.remember(  # type: ignore[attr-defined]
        profile=profile, name=name, qtype=1, do=False, rcode=0, counts=(1, 0, 0),
        body=b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01",
        ttl_offsets=(6,), ttls=(60,), stored_at=100.0, expires=expires, ede=b"", verdict=-1,
    )  # fmt: skip


def test_answers_expire_and_identities_go_stale(sockets: Socket) -> None:
    assert FastPath is not None
    native = FastPath(10, 10, OPTION_CODE)
    identity = b"\x00\x7f\x00\x00\x01"
    native.set_source(identity, 0, -1, 110.0, 140.0)
    remember(native, b"\x02ok\x04test\x00", expires=120.0)
    wire = query("ok.test", "A", 7)
    sockets.send(wire)
    assert native.serve(sockets.server.fileno(), 105.0, 10) == []
    answer = dns.message.from_wire(sockets.receive() or b"")
    assert (answer.id, answer.answer[0].ttl) == (7, 55)  # aged by the 5 s since it was read
    sockets.send(wire)
    ((packet, _, key, answered),) = native.serve(sockets.server.fileno(), 111.0, 10)
    assert (packet, key, answered) == (wire, identity, True)  # answered, and a refresh asked
    assert sockets.receive() is not None
    sockets.send(wire)
    assert native.serve(sockets.server.fileno(), 111.5, 10) == []  # one refresh a second
    assert sockets.receive() is not None
    sockets.send(wire)
    ((_, _, key, answered),) = native.serve(sockets.server.fileno(), 121.0, 10)
    assert (key, answered) == (identity, False)  # the answer expired: Python decides
    assert sockets.receive() is None
    remember(native, b"\x02ok\x04test\x00", expires=200.0)
    sockets.send(wire)
    ((_, _, key, answered),) = native.serve(sockets.server.fileno(), 141.0, 10)
    assert (key, answered) == (identity, False)  # the identity went stale: Python decides


def test_hits_of_many_children_are_counted_until_taken(sockets: Socket) -> None:
    assert FastPath is not None
    native = FastPath(10, 10, OPTION_CODE)
    identity = b"\x00\x7f\x00\x00\x01"
    native.set_source(identity, 3, 42, 1e9, 1e9)
    native.remember(
        profile=3, name=b"\x02ok\x04test\x00", qtype=1, do=False, rcode=3, counts=(0, 0, 0),
        body=b"", ttl_offsets=(), ttls=(), stored_at=0.0, expires=1e9, ede=b"", verdict=7,
    )  # fmt: skip
    for ident in range(4):
        sockets.send(query("OK.test", "A", ident))
    assert native.serve(sockets.server.fileno(), 1.0, 100) == []
    assert native.take_counts() == [(42, 7, 4)]
    assert native.take_counts() == []


JUNK = st.one_of(
    st.binary(max_size=600),
    st.builds(
        lambda base, at, value: base[:at] + bytes([value]) + base[at + 1 :],
        st.sampled_from([query("ok.test"), query("ok.test", use_edns=0, want_dnssec=True)]),
        st.integers(0, 40),
        st.integers(0, 255),
    ),
    st.builds(
        lambda base, cut: base[:cut], st.just(query("ok.test", use_edns=0)), st.integers(0, 40)
    ),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(packets=st.lists(JUNK, min_size=1, max_size=20))
def test_junk_is_passed_on_or_dropped_never_a_crash(sockets: Socket, packets: list[bytes]) -> None:
    assert FastPath is not None
    native = FastPath(10, 10, OPTION_CODE)
    native.set_source(b"\x00\x7f\x00\x00\x01", 0, 0, 1e9, 1e9)
    remember(native, b"\x02ok\x04test\x00", expires=1e9)
    for packet in packets:
        sockets.send(packet)
    passed = native.serve(sockets.server.fileno(), 1.0, 1000)
    stats = native.stats()
    assert stats["answered"] + stats["passed"] + stats["dropped"] == stats["received"]
    assert stats["limited"] == 0
    assert len(passed) == stats["passed"]
    for packet, _, _, answered in passed:
        assert not answered
        assert packet in packets
    while sockets.receive(timeout=0) is not None:  # the answers were sent before serve returned
        pass


def test_memory_is_bounded_by_the_sizes_given() -> None:
    assert FastPath is not None
    native = FastPath(100, 10, OPTION_CODE)
    for n in range(1000):
        remember(native, b"\x05n%04d\x00" % n, expires=1e9)
        native.set_source(b"\x00" + n.to_bytes(4, "big"), 0, -1, 1e9, 1e9)
    stats = native.stats()
    assert (stats["memo_entries"], stats["source_entries"]) == (100, 10)
