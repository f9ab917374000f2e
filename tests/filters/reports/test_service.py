"""Filing reports, grouping them, the queue, decisions and retention, at the service level."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from filters.check.service import check, default_profile
from filters.curation import publishing
from filters.curation.models import Entry, Source
from filters.engine.profile import CategorySetting, Mode, Profile
from filters.reports import reading, service
from filters.reports.errors import (
    CategoryRequired,
    InvalidCategory,
    InvalidReportTarget,
    NoteRequired,
    ReportAlreadyDecided,
)
from filters.reports.events import FilterReportDecided, ReporterRef
from filters.reports.models import FilterReport, FilterReportSubmission
from filters.reports.schemas import ReportDecisionCreate, ReportKind
from parental.kit.clock import FrozenClock
from parental.kit.db import transaction
from parental.kit.paging import InvalidCursor
from parental.runtime import Runtime
from tests.parental.test_filtering import publish

CHILD = uuid.UUID("11111111-1111-4111-8111-111111111111")
GUARDIAN = service.Reporter("guardian", "guardian-1", CHILD)
DEVICE = service.Reporter("device", "device-1", CHILD)
BLOCK_PAGE = service.Reporter("block_page")
ACTOR = "staff:curator-1"


def everything_on(runtime: Runtime) -> Profile:
    return default_profile(runtime.settings.default_child_timezone)


async def file(
    runtime: Runtime,
    target: str,
    reporter: service.Reporter = BLOCK_PAGE,
    *,
    kind: ReportKind = "wrongly_blocked",
    comment: str | None = None,
    profile: Profile | None = None,
) -> service.Filed:
    async with transaction(runtime.sessions) as session:
        return await service.submit(
            session,
            kind=kind,
            target=target,
            comment=comment,
            reporter=reporter,
            profile=profile or everything_on(runtime),
            store=runtime.snapshots,
            now=runtime.clock.now(),
        )


async def decide(runtime: Runtime, report_id: uuid.UUID, **body: object) -> FilterReport:
    async with transaction(runtime.sessions) as session:
        report = await service.get(session, report_id)
        return await service.decide(
            session,
            report,
            ReportDecisionCreate.model_validate(body),
            actor=ACTOR,
            now=runtime.clock.now(),
            bus=runtime.bus,
        )


async def publish_draft(runtime: Runtime) -> None:
    """Publish the draft as the CLI does (publish, commit, then activate)."""
    async with transaction(runtime.sessions) as session:
        version = await publishing.publish(
            session,
            snapshot_path=runtime.snapshots.path_for_number,
            actor="test",
            now=runtime.clock.now(),
        )
    await runtime.snapshots.publish(str(version.number), runtime.notices)


def verdict(runtime: Runtime, target: str) -> str:
    _, (result,) = check(
        runtime.snapshots, [target], profile=everything_on(runtime), now=runtime.clock.now()
    )
    return result.action


async def count(session: AsyncSession, model: type[FilterReport | FilterReportSubmission]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def manual_entries(runtime: Runtime) -> list[tuple[str, str, str, str, str, str | None]]:
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(Source.name, Entry.host, Entry.scope, Entry.path, Entry.action, Entry.reason)
            .join(Source, Source.id == Entry.source_id)
            .where(Source.kind == "manual")
            .order_by(Entry.host)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def test_reports_of_one_open_target_are_grouped(runtime: Runtime, clock: FrozenClock) -> None:
    await publish(runtime)
    first = await file(runtime, "https://WWW.Weed.test/shop?x=1", GUARDIAN, comment="homework")
    assert first.report.host == "www.weed.test"
    assert first.report.path == "/shop"
    assert first.report.reporter_count == 1
    assert reading.verdict_read(first.report) == reading.verdict_read(first.submission)
    read = reading.verdict_read(first.report)
    assert read is not None
    assert (read.action, read.category, read.source_name, read.version) == (
        "block",
        "drugs",
        "drugs",
        "1",
    )

    clock.advance(timedelta(minutes=1))
    second = await file(runtime, "www.weed.test/shop", DEVICE)
    again = await file(runtime, "http://www.weed.test/shop", GUARDIAN)  # a retry: not counted
    clock.advance(timedelta(minutes=1))
    await file(runtime, "www.weed.test/shop#top")
    clock.advance(timedelta(minutes=1))
    await file(runtime, "www.weed.test/shop")  # the block page cannot tell people apart
    other_kind = await file(runtime, "www.weed.test/shop", kind="should_be_blocked")

    assert second.report.id == first.report.id
    assert again.submission.id == first.submission.id
    assert other_kind.report.id != first.report.id
    async with runtime.sessions() as session:
        report = await service.get(session, first.report.id)
        assert report.reporter_count == 4
        assert report.created_at == first.report.created_at
        assert report.last_reported_at == clock.now()
        assert report.target == "https://WWW.Weed.test/shop?x=1"  # as first given
        detail = await reading.detail(session, report)
    assert [(r.type, r.comment) for r in detail.reporters] == [
        ("block_page", None),
        ("block_page", None),
        ("device", None),
        ("guardian", "homework"),
    ]


async def test_a_report_filed_while_another_is_being_opened_joins_it(runtime: Runtime) -> None:
    async with runtime.sessions() as first, runtime.sessions() as second:

        async def submit(session: AsyncSession, reporter: service.Reporter) -> service.Filed:
            return await service.submit(
                session,
                kind="should_be_blocked",
                target="casino.test",
                comment=None,
                reporter=reporter,
                profile=everything_on(runtime),
                store=runtime.snapshots,
                now=runtime.clock.now(),
            )

        opened = await submit(first, GUARDIAN)
        joining = asyncio.create_task(submit(second, BLOCK_PAGE))
        await asyncio.sleep(0.05)  # let it reach its insert while the first is uncommitted
        await first.commit()
        joined = await joining
        await second.commit()
    assert joined.report.id == opened.report.id
    assert joined.report.reporter_count == 2


async def test_invalid_targets_are_refused_and_change_nothing(runtime: Runtime) -> None:
    for bad, reason in [
        ("a..b", "empty-label"),
        ("https://exa mple.test/", None),
        ("ok.test/" + "x" * 1100, "path-too-long"),
    ]:
        with pytest.raises(InvalidReportTarget) as caught:
            await file(runtime, bad, GUARDIAN)
        if reason:
            assert reason in caught.value.detail
    async with runtime.sessions() as session:
        assert await count(session, FilterReport) == 0
        assert await count(session, FilterReportSubmission) == 0


async def test_the_verdict_is_the_childs_and_unknown_before_any_publish(runtime: Runtime) -> None:
    unpublished = await file(runtime, "weed.test", GUARDIAN)
    assert reading.verdict_read(unpublished.submission) is None

    await publish(runtime)
    drugs_off = Profile(timezone="Asia/Almaty", categories={"drugs": CategorySetting(Mode.OFF)})
    allowed = await file(runtime, "pills.test", DEVICE, profile=drugs_off)
    read = reading.verdict_read(allowed.submission)
    assert read is not None
    assert (read.action, read.category, read.source_name, read.version) == (
        "allow",
        None,
        None,
        "1",
    )


async def test_the_queue_shows_the_most_reported_then_the_oldest(
    runtime: Runtime, clock: FrozenClock
) -> None:
    await publish(runtime)
    oldest = await file(runtime, "quiet.test", kind="should_be_blocked")
    clock.advance(timedelta(hours=1))
    popular = await file(runtime, "weed.test")
    await file(runtime, "weed.test")
    await file(runtime, "weed.test", GUARDIAN)
    clock.advance(timedelta(hours=1))
    newer = await file(runtime, "also-quiet.test", kind="should_be_blocked")
    pills = await file(runtime, "pills.test")
    await file(runtime, "pills.test")

    async with runtime.sessions() as session:
        everything = await reading.queue_page(session, limit=10, cursor=None)
        assert [r.id for r in everything.items] == [
            popular.report.id,
            pills.report.id,
            oldest.report.id,
            newer.report.id,
        ]
        assert everything.next_cursor is None
        ids = []
        cursor = None
        while True:
            page = await reading.queue_page(session, limit=1, cursor=cursor)
            ids += [r.id for r in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert ids == [r.id for r in everything.items]

        blocked = await reading.queue_page(session, limit=10, cursor=None, category="drugs")
        assert [r.id for r in blocked.items] == [popular.report.id, pills.report.id]
        wanted = await reading.queue_page(session, limit=10, cursor=None, kind="should_be_blocked")
        assert [r.id for r in wanted.items] == [oldest.report.id, newer.report.id]
        with pytest.raises(InvalidCursor):
            await reading.queue_page(session, limit=10, cursor="bm9wZQ")

    await decide(runtime, popular.report.id, decision="reject", note="It sells drugs.")
    async with runtime.sessions() as session:
        still_open = await reading.queue_page(session, limit=10, cursor=None)
        assert popular.report.id not in [r.id for r in still_open.items]
        rejected = await reading.queue_page(session, limit=10, cursor=None, status="rejected")
        assert [r.id for r in rejected.items] == [popular.report.id]


async def test_accepting_a_should_be_blocked_report_blocks_it_from_the_next_publish(
    runtime: Runtime,
) -> None:
    await publish(runtime)
    decided: list[FilterReportDecided] = []

    async def remember(event: FilterReportDecided) -> None:
        decided.append(event)

    runtime.bus.subscribe(FilterReportDecided, remember)
    filed = await file(runtime, "casino.test", GUARDIAN, kind="should_be_blocked")
    await file(runtime, "https://CASINO.test/", DEVICE, kind="should_be_blocked")
    await file(runtime, "casino.test", BLOCK_PAGE, kind="should_be_blocked")
    assert filed.report.path == ""

    report = await decide(
        runtime, filed.report.id, decision="accept", category="gambling", note="Online casino."
    )
    assert report.reporter_count == 3

    assert report.status == "accepted"
    assert report.open_key is None
    assert (report.applied_category, report.applied_action) == ("gambling", "block")
    assert (report.decided_by, report.decision_note) == (ACTOR, "Online casino.")
    assert await manual_entries(runtime) == [
        (
            "manual:gambling",
            "casino.test",
            "subtree",
            "",
            "block",
            f"report {report.id}: Online casino.",
        )
    ]
    assert verdict(runtime, "www.casino.test") == "allow"  # not before the next publish
    await publish_draft(runtime)
    assert verdict(runtime, "www.casino.test") == "block"

    assert len(decided) == 1
    event = decided[0]
    assert (event.report_id, event.status, event.kind, event.target) == (
        report.id,
        "accepted",
        "should_be_blocked",
        "casino.test",
    )
    assert (event.category, event.action, event.note) == ("gambling", "block", "Online casino.")
    assert set(event.reporters) == {
        ReporterRef(type="guardian", id="guardian-1", child_id=CHILD),
        ReporterRef(type="device", id="device-1", child_id=CHILD),
    }


async def test_accepting_a_wrongly_blocked_report_allows_it_in_the_blocking_category(
    runtime: Runtime,
) -> None:
    await publish(runtime)
    assert verdict(runtime, "https://weed.test/garden/tomatoes") == "block"
    filed = await file(runtime, "https://weed.test/garden/tomatoes", DEVICE)

    report = await decide(runtime, filed.report.id, decision="accept")

    assert (report.applied_category, report.applied_action) == ("drugs", "allow")
    assert await manual_entries(runtime) == [
        ("manual:drugs", "weed.test", "url", "/garden/tomatoes", "allow", f"report {report.id}")
    ]
    await publish_draft(runtime)
    assert verdict(runtime, "https://weed.test/garden/tomatoes/red") == "allow"
    assert verdict(runtime, "https://weed.test/shop") == "block"


async def test_a_curator_may_list_another_target_or_only_the_name_itself(
    runtime: Runtime,
) -> None:
    await publish(runtime)
    wide = await file(runtime, "https://www.roulette.test/play", kind="should_be_blocked")
    exact = await file(runtime, "slots.test", kind="should_be_blocked")
    await decide(
        runtime, wide.report.id, decision="accept", category="gambling", target="roulette.test"
    )
    await decide(runtime, exact.report.id, decision="accept", category="gambling", subdomains=False)
    await publish_draft(runtime)
    assert verdict(runtime, "games.roulette.test") == "block"
    assert verdict(runtime, "slots.test") == "block"
    assert verdict(runtime, "www.slots.test") == "allow"


async def test_decisions_that_cannot_be_made_change_nothing(runtime: Runtime) -> None:
    await publish(runtime)
    wanted = await file(runtime, "casino.test", kind="should_be_blocked")
    by_guardian = await file(runtime, "unlisted.test", GUARDIAN)  # wrongly blocked, yet allowed
    for report_id, body, error in [
        (wanted.report.id, {"decision": "reject"}, NoteRequired),
        (wanted.report.id, {"decision": "reject", "note": "  "}, NoteRequired),
        (wanted.report.id, {"decision": "accept"}, CategoryRequired),
        (wanted.report.id, {"decision": "accept", "category": "nope"}, InvalidCategory),
        (wanted.report.id, {"decision": "accept", "category": "kids_allow"}, InvalidCategory),
        (by_guardian.report.id, {"decision": "accept"}, CategoryRequired),
    ]:
        with pytest.raises(error):
            await decide(runtime, report_id, **body)
    assert await manual_entries(runtime) == []
    async with runtime.sessions() as session:
        assert (await service.get(session, wanted.report.id)).status == "open"

    await decide(runtime, wanted.report.id, decision="reject", note="A game shop, no gambling.")
    with pytest.raises(ReportAlreadyDecided):
        await decide(runtime, wanted.report.id, decision="accept", category="gambling")
    assert await manual_entries(runtime) == []
    async with runtime.sessions() as session:
        report = await service.get(session, wanted.report.id)
        assert (report.status, report.decision_note) == ("rejected", "A game shop, no gambling.")

    reopened = await file(runtime, "casino.test", kind="should_be_blocked")
    assert reopened.report.id != wanted.report.id
    assert reopened.report.reporter_count == 1


async def test_purge_removes_decided_reports_after_retention_and_open_ones_after_theirs(
    runtime: Runtime, clock: FrozenClock
) -> None:
    t0 = clock.now()
    old_open = await file(runtime, "open.test", GUARDIAN, kind="should_be_blocked")
    decided_early = await file(runtime, "early.test", GUARDIAN, kind="should_be_blocked")
    await file(runtime, "early.test", DEVICE, kind="should_be_blocked")
    decided_late = await file(runtime, "late.test", GUARDIAN, kind="should_be_blocked")
    await decide(runtime, decided_early.report.id, decision="reject", note="no")
    clock.advance(timedelta(days=10))
    await decide(runtime, decided_late.report.id, decision="reject", note="no")

    async with transaction(runtime.sessions) as session:
        assert await service.purge(session, decided_before=t0, open_before=t0) == 0
    async with transaction(runtime.sessions) as session:
        purged = await service.purge(
            session, decided_before=t0 + timedelta(seconds=1), open_before=t0
        )
        assert purged == 1
    async with runtime.sessions() as session:
        left = await session.scalars(select(FilterReport.id).order_by(FilterReport.host))
        assert list(left) == [decided_late.report.id, old_open.report.id]
        assert await count(session, FilterReportSubmission) == 2
    # An open report nobody reported again goes after its own, longer, retention.
    async with transaction(runtime.sessions) as session:
        purged = await service.purge(
            session, decided_before=t0, open_before=t0 + timedelta(seconds=1)
        )
        assert purged == 1
    async with runtime.sessions() as session:
        left = await session.scalars(select(FilterReport.id))
        assert list(left) == [decided_late.report.id]
