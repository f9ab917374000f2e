"""What goes with a removed child besides the ``children`` row: the filter's and telemetry's
data about them.

The filter and telemetry packages keep a child's rows by id, with no foreign key to
``children`` (packages refer to each other's rows by id only), so the database cannot cascade
them; this module deletes them in the transaction that deletes the child:

- verdict counts, blocked names and the query log (what the child looked up);
- unblock requests the child sent from the block page;
- the child's filter profile and the guardian's own entries in it;
- report submissions about the child. A report only this child's submissions made is deleted;
  one others reported too keeps their submissions, their count and, as its target, the
  earliest remaining reporter's text rather than this child's;
- the bindings of the child's line: the line stays (it is the carrier's, under the guardian's
  contract), but its bindings say which address the child's phone held when. A session still
  live is bound again by its next accounting update, to a line without a child;
- location fixes, places and their events, alarms, alarm settings and device statuses, and the
  hash of the line's handset, screen-time usage sessions (each telemetry package's own
  ``erase_child``), the names of the apps the child's devices reported, the child's
  screen-time rules, pause and extra time, the categories guardians gave the child's apps,
  the marks of the usage summaries and limits reached told about the child, and the child's
  screen-time requests (extra time, app installs) and tasks;
- the messages the child's devices uploaded and the alerts raised on them;
- the consent records of the guardians and the child (the audit log keeps every change).

Devices, pairing codes and commands to the devices (with a listening session's audio) go by
ON DELETE CASCADE (on SQLite too: ``kit.db`` turns foreign
keys on for every connection). Audit events stay: they are the family's record of what was
done, the removal included.

``erase_all_but_the_child`` deletes the same and, explicitly, what the cascade would take,
keeping the ``children`` row: the step-down at 18 (``parental.child_data.step_down``) leaves
the family a child card that says monitoring ended and the data went.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Delete, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from filters.activity.models import BlockedHost, LoggedQuery, VerdictCount
from filters.profiles.models import FilterProfile, FilterProfileEntry
from filters.reports.models import FilterReport, FilterReportSubmission
from filters.unblock.models import UnblockRequest
from parental.children.models import Child
from parental.commands.models import DeviceCommand
from parental.consent import service as consent
from parental.devices.models import Device, PairingCode
from parental.lines.models import LineBinding
from telemetry.alarms import service as alarms
from telemetry.conversations import service as conversations
from telemetry.geofences import service as geofences
from telemetry.locations import service as locations
from telemetry.usage import service as usage
from telemetry.usage.catalogue import service as app_categories
from telemetry.usage.reports import notices as usage_notices
from telemetry.usage.requests import service as screen_time_requests
from telemetry.usage.rules import service as screen_time
from telemetry.usage.tasks import service as screen_time_tasks


async def _count(session: AsyncSession, statement: Delete) -> int:
    result: Any = await session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)


async def erase_child_data(session: AsyncSession, child: Child) -> dict[str, int]:
    """Delete the filter's and telemetry's rows about ``child``; how many of each kind went."""
    profiles = select(FilterProfile.id).where(FilterProfile.child_id == child.id)
    erased = {
        "verdict_counts": await _count(
            session, delete(VerdictCount).where(VerdictCount.child_id == child.id)
        ),
        "blocked_names": await _count(
            session, delete(BlockedHost).where(BlockedHost.child_id == child.id)
        ),
        "query_log": await _count(
            session, delete(LoggedQuery).where(LoggedQuery.child_id == child.id)
        ),
        "unblock_requests": await _count(
            session, delete(UnblockRequest).where(UnblockRequest.child_id == child.id)
        ),
        "profile_entries": await _count(
            session,
            delete(FilterProfileEntry).where(FilterProfileEntry.profile_id.in_(profiles)),
        ),
        "profiles": await _count(
            session, delete(FilterProfile).where(FilterProfile.child_id == child.id)
        ),
        **await _erase_reports(session, child.id),
        "line_bindings": await _count(
            session, delete(LineBinding).where(LineBinding.line_id == child.line_id)
        ),
        "location_fixes": await locations.erase_child(session, child.id),
        **await usage.erase_child(session, child.id),
        **await screen_time.erase_child(session, child.id),
        **await screen_time_requests.erase_child(session, child.id),
        **await screen_time_tasks.erase_child(session, child.id),
        **await app_categories.erase_child(session, child.id),
        **await usage_notices.erase_child(session, child.id),
        **await geofences.erase_child(session, child.id),
        **await alarms.erase_child(session, child.id, child.line_id),
        **await conversations.erase_child(session, child.id),
        "consent_records": await consent.erase_child(session, child.id),
    }
    return {kind: count for kind, count in erased.items() if count}


async def erase_all_but_the_child(session: AsyncSession, child: Child) -> dict[str, int]:
    """``erase_child_data``, and the rows removing the child would cascade to: commands (with a
    listening session's audio), devices (with their push tokens: the device's token stops
    working), pairing codes. How many of each kind went."""
    erased = await erase_child_data(session, child)
    cascaded = {
        "device_commands": await _count(
            session, delete(DeviceCommand).where(DeviceCommand.child_id == child.id)
        ),
        "devices": await _count(session, delete(Device).where(Device.child_id == child.id)),
        "pairing_codes": await _count(
            session, delete(PairingCode).where(PairingCode.child_id == child.id)
        ),
    }
    return erased | {kind: count for kind, count in cascaded.items() if count}


async def _erase_reports(session: AsyncSession, child_id: uuid.UUID) -> dict[str, int]:
    touched = list(
        await session.scalars(
            select(FilterReportSubmission.report_id)
            .where(FilterReportSubmission.child_id == child_id)
            .distinct()
        )
    )
    if not touched:
        return {}
    submissions = await _count(
        session,
        delete(FilterReportSubmission).where(FilterReportSubmission.child_id == child_id),
    )
    remaining = select(FilterReportSubmission).where(
        FilterReportSubmission.report_id == FilterReport.id
    )
    reports = await _count(
        session,
        delete(FilterReport).where(FilterReport.id.in_(touched), ~exists(remaining)),
    )
    first = remaining.order_by(FilterReportSubmission.created_at, FilterReportSubmission.id)
    await session.execute(
        update(FilterReport)
        .where(FilterReport.id.in_(touched))
        .values(
            reporter_count=remaining.with_only_columns(func.count()).scalar_subquery(),
            target=first.with_only_columns(FilterReportSubmission.target)
            .limit(1)
            .scalar_subquery(),
        ),
        execution_options={"synchronize_session": False},
    )
    return {"report_submissions": submissions, "reports": reports}
