"""Everything held about a child, as one JSON document for the child's guardians.

``GET /v1/children/{child_id}/export`` (``children.router``) checks the caller, the rate and
the monitoring rules, writes the audit row the child's device shows ("your parent downloaded
your data") and commits; then ``stream`` writes the document from a session of its own, a
table at a time, in batches, so a child with months of location fixes costs a few hundred
rows of memory, not the whole history.

What is in it:

- ``child``: the profile and whether monitoring applies; ``line``: the child SIM;
  ``line_bindings``: which address the line held when;
- every table that holds rows by ``child_id`` (found in the metadata, so a table added later
  is exported without a change here): devices, locations, places and their events, alarms,
  app usage, screen-time rules, requests and tasks, the filter's counts, log and requests,
  commands, audit events, ... (``filter_profile_entries`` and ``command_audio`` through their
  parent rows);
- ``conversation_messages`` and ``message_alerts``: labels and metadata always; the words
  (text, sender, conversation title, an alert's excerpt) only while the guardians may read
  whole conversations (the carrier's ``transcripts_under_age``: ``parental.age_policy``), as
  the app shows them;
- ``notifications``: what the guardians' phones and the child's devices were sent about the
  child.

Left out: secrets and what stands in for them (token and code hashes, key ids), ciphertext,
a listening session's recording (the bytes; its metadata is there: the recording is its
issuer's alone and is fetched from its own route), and the addresses requests came from.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import LargeBinary, Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from filters.profiles.models import FilterProfile, FilterProfileEntry
from parental.children.models import Child
from parental.children.monitoring import Monitoring
from parental.commands.models import CommandAudio, DeviceCommand
from parental.devices.models import Device
from parental.families.models import Guardian
from parental.kit.db import Base
from parental.lines.models import Line, LineBinding
from parental.notifications.models import PushOutboxRow
from parental.runtime import Runtime
from telemetry.conversations.alerts import open_excerpt
from telemetry.conversations.crypto import MessageCipher
from telemetry.conversations.models import ConversationMessage, MessageAlert
from telemetry.conversations.service import open_message

FORMAT = "child-export/1"
BATCH = 500
# Secrets, what stands in for them, and callers' addresses: never exported.
HIDDEN_COLUMNS = frozenset({"token_hash", "code_hash", "key_hash", "token", "key_id", "ip"})
# Exported with their own rules below (the words of messages depend on the age band).
_SPECIAL = frozenset({ConversationMessage.__tablename__, MessageAlert.__tablename__})


@dataclass(frozen=True)
class ExportScope:
    """What the route decided: the child, whether monitoring applies, and whether the
    guardians may read the words of the child's messages now."""

    child_id: uuid.UUID
    monitoring: Monitoring
    transcripts: bool
    cipher: MessageCipher


def child_tables() -> list[Table]:
    """Every table holding rows by ``child_id``, by name."""
    return sorted(
        (
            table
            for table in Base.metadata.tables.values()
            if "child_id" in table.c and table.name not in _SPECIAL
        ),
        key=lambda table: table.name,
    )


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not exported")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, default=_value, ensure_ascii=False, separators=(",", ":")).encode()


def exported(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of ``row`` a guardian gets: no secret, no ciphertext, no caller address."""
    return {
        column.name: row[column.name]
        for column in table.columns
        if column.name not in HIDDEN_COLUMNS and not isinstance(column.type, LargeBinary)
    }


def _of(entity: Base) -> dict[str, Any]:
    table = entity.__table__
    assert isinstance(table, Table)
    return exported(table, {c.name: getattr(entity, c.key) for c in table.columns})


async def stream(runtime: Runtime, scope: ExportScope) -> AsyncIterator[bytes]:
    """The document, in pieces (module doc)."""
    async with runtime.sessions() as session:
        child = await session.get(Child, scope.child_id)
        if child is None:  # removed between the check and now: an empty but valid document
            yield _dumps({"format": FORMAT, "child": None})
            return
        line = await session.get(Line, child.line_id)
        status = scope.monitoring
        yield b'{"format":' + _dumps(FORMAT)
        yield b',"generated_at":' + _dumps(runtime.clock.now())
        profile = _of(child) | {
            "monitoring": {
                "active": status.active,
                "ends_on": status.ends_on,
                "reasons": status.reasons,
            }
        }
        yield b',"child":' + _dumps(profile)
        yield b',"line":' + _dumps(_of(line) if line is not None else None)
        yield b',"messages_shown":' + _dumps("words" if scope.transcripts else "metadata")
        binding = select(LineBinding).where(LineBinding.line_id == child.line_id)
        yield b',"line_bindings":'
        async for piece in _array(session, binding.order_by(LineBinding.started_at), _of):
            yield piece
        for table in child_tables():
            query = select(table).where(table.c.child_id == child.id)
            yield b"," + _dumps(table.name) + b":"
            async for piece in _rows(session, table, query.order_by(*table.primary_key)):
                yield piece
        async for piece in _related(session, child):
            yield piece
        async for piece in _messages(session, child, scope):
            yield piece
        yield b',"notifications":'
        async for piece in _notifications(session, child):
            yield piece
        yield b"}"


async def _array(
    session: AsyncSession, query: Select[Any], shape: Any, *, keep: Any = None
) -> AsyncIterator[bytes]:
    """``[...]`` of the ORM rows of ``query``, each shaped by ``shape``, in batches."""
    yield b"["
    first = True
    result = await session.stream_scalars(query.execution_options(yield_per=BATCH))
    async for batch in result.partitions(BATCH):
        items = [shape(row) for row in batch if keep is None or keep(row)]
        if items:
            yield (b"" if first else b",") + b",".join(_dumps(item) for item in items)
            first = False
    yield b"]"


async def _rows(session: AsyncSession, table: Table, query: Select[Any]) -> AsyncIterator[bytes]:
    """``[...]`` of the Core rows of ``query`` on ``table``, in batches."""
    yield b"["
    first = True
    result = await session.stream(query.execution_options(yield_per=BATCH))
    async for batch in result.mappings().partitions(BATCH):
        if batch:
            chunk = b",".join(_dumps(exported(table, row)) for row in batch)
            yield (b"" if first else b",") + chunk
            first = False
    yield b"]"


async def _related(session: AsyncSession, child: Child) -> AsyncIterator[bytes]:
    """Rows held through a parent row of the child: entries of the filter profile, the
    metadata of listening sessions' recordings."""
    profiles = select(FilterProfile.id).where(FilterProfile.child_id == child.id)
    entries = select(FilterProfileEntry).where(FilterProfileEntry.profile_id.in_(profiles))
    yield b',"filter_profile_entries":'
    async for piece in _array(session, entries.order_by(FilterProfileEntry.id), _of):
        yield piece
    commands = select(DeviceCommand.id).where(DeviceCommand.child_id == child.id)
    audio = select(CommandAudio).where(CommandAudio.command_id.in_(commands))
    yield b',"command_audio":'
    async for piece in _array(session, audio.order_by(CommandAudio.command_id), _of):
        yield piece


async def _messages(
    session: AsyncSession, child: Child, scope: ExportScope
) -> AsyncIterator[bytes]:
    def message(row: ConversationMessage) -> dict[str, Any]:
        shown = _of(row)
        if scope.transcripts:
            opened = open_message(scope.cipher, row)
            shown |= {
                "conversation_title": opened.conversation_title,
                "sender_name": opened.sender_name,
                "text": opened.text,
            }
        return shown

    def alert(row: MessageAlert) -> dict[str, Any]:
        shown = _of(row)
        if scope.transcripts:
            shown["excerpt"] = open_excerpt(scope.cipher, row)
        return shown

    messages = select(ConversationMessage).where(ConversationMessage.child_id == child.id)
    yield b',"conversation_messages":'
    order = (ConversationMessage.sent_at, ConversationMessage.id)
    async for piece in _array(session, messages.order_by(*order), message):
        yield piece
    alerts = select(MessageAlert).where(MessageAlert.child_id == child.id)
    yield b',"message_alerts":'
    async for piece in _array(session, alerts.order_by(MessageAlert.created_at), alert):
        yield piece


async def _notifications(session: AsyncSession, child: Child) -> AsyncIterator[bytes]:
    """What the family's guardians were notified about the child (the rows say which child
    in their data), and every message sent to the child's devices."""
    family = select(Guardian.account_id).where(Guardian.family_id == child.family_id)
    guardians = set(await session.scalars(family))
    devices = set(await session.scalars(select(Device.id).where(Device.child_id == child.id)))
    wanted = str(child.id)

    def about_child(row: PushOutboxRow) -> bool:
        data = row.payload.get("data") or {}
        return row.account_id in devices or data.get("child_id") == wanted

    recipients: Iterable[uuid.UUID] = guardians | devices
    query = (
        select(PushOutboxRow)
        .where(PushOutboxRow.account_id.in_(list(recipients)))
        .order_by(PushOutboxRow.created_at, PushOutboxRow.id)
    )
    async for piece in _array(session, query, _of, keep=about_child):
        yield piece
