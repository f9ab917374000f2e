"""The push outbox: notifications written with the event that causes them, sent later.

How a row moves:

- ``enqueue`` adds it in the caller's transaction, so the event and its notification commit
  (or roll back) together. Its ``key`` says what it is about ("geofence-exit:<event id>:<account
  id>"): a second row under the same key is ignored, which is the de-duplication. A notice
  that ``rewrites`` instead replaces what the row says, and when it is due, while the row is
  pending and not leased (unread again): a notice gathering what happens until it is sent.
  The payload records when the row is first due (``due_at``: its ``not_before``, or when it
  was written): the message's TTL counts from then, so a notice held until quiet hours end
  still has its whole life when it is sent (``Claimed.due_at``; retries never extend it).
- ``claim`` leases due rows to one dispatcher in a single statement (on PostgreSQL the rows are
  picked ``FOR UPDATE SKIP LOCKED``, so dispatchers at once never pick the same row; SQLite
  writes one statement at a time). The claim commits before anything is sent.
- ``settle`` records what FCM answered, but only while the row is still leased to the same
  dispatcher: ``sent``, ``failed`` (never tried again), or pending again at a later time. A
  dispatcher that dies between sending and settling leaves the lease to run out; the row is
  then sent again, so at most the batch in flight goes twice. ``settle_many`` does it for a
  whole round in a few statements, one on PostgreSQL (one UPDATE per row had been a sixth of
  a round's time).
- ``purge`` deletes rows ``push_outbox_retention_days`` after they were written, whatever
  their state (a notification that old is no news).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import Uuid, bindparam, case, column, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit import request_id
from parental.notifications import live
from parental.notifications.models import PushOutboxRow

Priority = Literal["high", "normal"]
Sound = Literal["default", "critical"]
_OUTBOX = PushOutboxRow.metadata.tables[PushOutboxRow.__tablename__]
_DUE_AT = "due_at"  # in the payload: when the row is first due (module doc)


class State(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class PushMessage:
    """What to show: texts already in the recipient's language (no title and body: a data
    message the app handles silently), string data for the app, and how FCM treats it: the
    collapse key (a newer message with the same key replaces an undelivered older one), how
    long it is worth delivering, and whether it may wake the phone.

    ``translations`` holds the title and body in other languages, by locale (``{"en":
    {"title": ..., "body": ...}}``): a phone whose app shows one of them gets those
    (``in_locale``); the inbox and every other phone get ``title`` and ``body``.

    ``sound`` is an alert's sound on iOS (None: silent; ``critical``: a critical alert, at full
    volume even on silent or Do Not Disturb, which needs Apple's entitlement)."""

    title: str | None
    body: str | None
    data: Mapping[str, str] = field(default_factory=dict)
    collapse_key: str | None = None
    ttl_seconds: int = 24 * 3600
    priority: Priority = "high"
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    sound: Sound | None = None

    def __post_init__(self) -> None:
        if (self.title is None) != (self.body is None):
            raise ValueError("give both title and body, or neither (a data message)")
        if self.sound is not None and self.title is None:
            raise ValueError("a sound is an alert's: a data message plays none")
        if self.translations and self.title is None:
            raise ValueError("a data message shows no text to translate")
        if any(set(text) != {"title", "body"} for text in self.translations.values()):
            raise ValueError("a translation gives a title and a body")
        if self.ttl_seconds < 1 or self.ttl_seconds > 28 * 24 * 3600:
            raise ValueError("FCM keeps a message between 1 second and 28 days")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.data.items()):
            raise ValueError("FCM data values are strings")

    def in_locale(self, locale: str | None) -> PushMessage:
        """The message as a phone showing ``locale`` gets it (itself without a translation)."""
        text = self.translations.get(locale) if locale else None
        if text is None:
            return self
        return replace(self, title=text["title"], body=text["body"], translations={})

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "title": self.title,
            "body": self.body,
            "data": dict(self.data),
            "collapse_key": self.collapse_key,
            "ttl_seconds": self.ttl_seconds,
            "priority": self.priority,
        }
        if self.translations:
            payload["translations"] = {k: dict(v) for k, v in self.translations.items()}
        if self.sound is not None:
            payload["sound"] = self.sound
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> PushMessage:
        return cls(
            title=payload["title"],
            body=payload["body"],
            data=dict(payload.get("data") or {}),
            collapse_key=payload.get("collapse_key"),
            ttl_seconds=int(payload["ttl_seconds"]),
            priority=payload.get("priority", "high"),
            translations=dict(payload.get("translations") or {}),
            sound=payload.get("sound"),
        )


@dataclass(frozen=True)
class Notice:
    """One row to add: who gets what, under which key, from when (None: at once); with
    ``rewrites``, a pending row under the key is rewritten with it (module doc)."""

    key: str
    account_id: uuid.UUID
    kind: str
    message: PushMessage
    not_before: datetime | None = None
    rewrites: bool = False


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    account_id: uuid.UUID,
    kind: str,
    message: PushMessage,
    now: datetime,
    not_before: datetime | None = None,
) -> bool:
    """Add a notification for ``account_id`` in the caller's transaction, to be sent from
    ``not_before`` (default: now); False when a row with this key already exists (nothing is
    added)."""
    notice = Notice(key, account_id, kind, message, not_before)
    return await enqueue_many(session, [notice], now=now) == 1


async def enqueue_many(session: AsyncSession, notices: Sequence[Notice], *, now: datetime) -> int:
    """``enqueue`` for several rows in one statement (two with rows that rewrite); how many
    were added or rewritten."""
    plain = [n for n in notices if not n.rewrites]
    rewriting = [n for n in notices if n.rewrites]
    added = await _insert(session, plain, now=now, rewrite=False) if plain else 0
    return added + (await _insert(session, rewriting, now=now, rewrite=True) if rewriting else 0)


async def _insert(
    session: AsyncSession, notices: Sequence[Notice], *, now: datetime, rewrite: bool
) -> int:
    rid = request_id.current()
    values: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(),
            "dedup_key": notice.key,
            "account_id": notice.account_id,
            "kind": notice.kind,
            "payload": notice.message.to_payload()
            | {_DUE_AT: max(notice.not_before or now, now).isoformat()},
            "created_at": now,
            "state": State.PENDING.value,
            "attempts": 0,
            "next_attempt_at": notice.not_before or now,
            "delivered_to": [],
            "request_id": rid,
        }
        for notice in notices
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # The table, not the ORM class, with the rows as parameters: SQLAlchemy then sends them
    # in as few statements as it can without coercing every value through the ORM (an upload
    # crossing several places' borders writes a row per event and guardian).
    statement: Any = insert(_OUTBOX)
    if rewrite:
        statement = statement.on_conflict_do_update(
            index_elements=["dedup_key"],
            set_={
                "kind": statement.excluded.kind,
                "payload": statement.excluded.payload,
                "next_attempt_at": statement.excluded.next_attempt_at,
                "read_at": None,
            },
            where=(_OUTBOX.c.state == State.PENDING.value) & _OUTBOX.c.leased_by.is_(None),
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["dedup_key"])
    returning = statement.returning(_OUTBOX.c.id, _OUTBOX.c.account_id)
    added = [(row_id, account) for row_id, account in await session.execute(returning, values)]
    # Told to the dispatchers and the recipients' inbox streams once the caller commits.
    live.remember(session, added)
    return len(added)


@dataclass(frozen=True)
class Claimed:
    """A row leased to a dispatcher, as plain values: what sending and settling it need."""

    id: uuid.UUID
    dedup_key: str
    account_id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    delivered_to: list[str]
    next_attempt_at: datetime
    request_id: str | None

    @property
    def due_at(self) -> datetime:
        """When the row was first due (the end of a hold, or its writing), from which its
        message's TTL counts; a row written before this was recorded counts from its writing."""
        due = self.payload.get(_DUE_AT)
        return datetime.fromisoformat(due) if isinstance(due, str) else self.created_at


_CLAIMED = [_OUTBOX.c[name] for name in Claimed.__dataclass_fields__]


async def claim(
    session: AsyncSession, *, now: datetime, limit: int, worker: str, lease: timedelta
) -> list[Claimed]:
    """Lease up to ``limit`` due rows (oldest due first) to ``worker`` until ``now + lease``."""
    due = (
        select(_OUTBOX.c.id)
        .where(
            _OUTBOX.c.state == State.PENDING.value,
            _OUTBOX.c.next_attempt_at <= now,
            or_(_OUTBOX.c.lease_until.is_(None), _OUTBOX.c.lease_until <= now),
        )
        .order_by(_OUTBOX.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # The table's columns, not ORM objects: a round's rows are read once and never changed
    # through the session, and building and tracking 500 objects was most of the claim's time.
    statement = (
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(due.scalar_subquery()))
        .values(lease_until=now + lease, leased_by=worker)
        .returning(*_CLAIMED)
    )
    rows = [Claimed(*row) for row in (await session.execute(statement)).all()]
    rows.sort(key=lambda row: row.next_attempt_at)
    return rows


@dataclass(frozen=True)
class Settlement:
    """What became of a claimed row after a send."""

    state: State
    delivered_to: list[str]
    error: str | None = None
    retry_at: datetime | None = None  # for State.PENDING


async def settle(
    session: AsyncSession,
    row: Claimed | PushOutboxRow,
    outcome: Settlement,
    *,
    worker: str,
    now: datetime,
) -> bool:
    """Record ``outcome`` for ``row`` if it is still leased to ``worker`` (False otherwise:
    the lease ran out and another dispatcher took the row)."""
    return row.id in await settle_many(session, [(row.id, outcome)], worker=worker, now=now)


async def settle_many(
    session: AsyncSession,
    outcomes: Sequence[tuple[uuid.UUID, Settlement]],
    *,
    worker: str,
    now: datetime,
) -> set[uuid.UUID]:
    """``settle`` for a round's rows in a few statements, whatever their number: records each
    outcome on the rows still leased to ``worker`` and returns their ids (the other rows are
    left as they are)."""
    if not outcomes:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        # The whole round in one statement, each row's values from arrays: the per-row
        # UPDATEs below were most of a round's database time on PostgreSQL.
        result = await session.execute(_SETTLE_POSTGRESQL, _arrays(outcomes, worker, now))
        return set(result.scalars().all())
    # First what every settlement writes alike, on the rows still ours, which the statement
    # returns. Being a write, it holds those rows' locks (PostgreSQL) or the database's write
    # lock (SQLite) until the caller commits, so the values written next, per row, land on
    # exactly these rows: nobody can take one over in between.
    held = (
        update(_OUTBOX)
        .where(
            _OUTBOX.c.id.in_([row_id for row_id, _ in outcomes]),
            _OUTBOX.c.leased_by == worker,
            _OUTBOX.c.state == State.PENDING.value,
        )
        .values(attempts=_OUTBOX.c.attempts + 1, lease_until=None, leased_by=None)
        .returning(_OUTBOX.c.id)
    )
    ours = set((await session.execute(held)).scalars().all())
    written: dict[State, list[dict[str, Any]]] = {}
    for row_id, outcome in outcomes:
        if row_id not in ours:
            continue
        values: dict[str, Any] = {
            "b_id": row_id,
            "b_state": outcome.state.value,
            "b_delivered_to": outcome.delivered_to,
            "b_error": outcome.error,
        }
        if outcome.state is State.SENT:
            values["b_at"] = now
        elif outcome.state is State.PENDING:
            assert outcome.retry_at is not None
            values["b_at"] = outcome.retry_at
        written.setdefault(outcome.state, []).append(values)
    for state, rows in written.items():
        # One executemany a kind of outcome: one round trip on asyncpg, a C loop on SQLite.
        await session.execute(_WRITE[state], rows)
    return ours


# ``settle_many`` on PostgreSQL: what the statements of the other databases write, in one, on
# the rows still leased to the worker; each row's values come from ``unnest`` of an array a
# column (``_arrays``), and its state says which timestamp its ``at`` is.
_SETTLE_POSTGRESQL = text(
    """
    UPDATE push_outbox AS o SET
        attempts = o.attempts + 1, lease_until = NULL, leased_by = NULL,
        state = v.state, delivered_to = CAST(v.delivered_to AS jsonb), last_error = v.error,
        sent_at = CASE WHEN v.state = 'sent' THEN v.at ELSE o.sent_at END,
        next_attempt_at = CASE WHEN v.state = 'pending' THEN v.at ELSE o.next_attempt_at END
    FROM unnest(
        CAST(:ids AS uuid[]), CAST(:states AS text[]), CAST(:delivered AS text[]),
        CAST(:errors AS text[]), CAST(:ats AS timestamptz[])
    ) AS v (id, state, delivered_to, error, at)
    WHERE o.id = v.id AND o.leased_by = :worker AND o.state = 'pending'
    RETURNING o.id
    """
).columns(column("id", Uuid))


def _arrays(
    outcomes: Sequence[tuple[uuid.UUID, Settlement]], worker: str, now: datetime
) -> dict[str, Any]:
    """``_SETTLE_POSTGRESQL``'s parameters: a column of values each, one row an outcome."""
    ats: list[datetime | None] = []
    for _, outcome in outcomes:
        if outcome.state is State.SENT:
            ats.append(now)
        elif outcome.state is State.PENDING:
            assert outcome.retry_at is not None
            ats.append(outcome.retry_at)
        else:
            ats.append(None)
    return {
        "ids": [row_id for row_id, _ in outcomes],
        "states": [outcome.state.value for _, outcome in outcomes],
        "delivered": [json.dumps(outcome.delivered_to) for _, outcome in outcomes],
        "errors": [outcome.error for _, outcome in outcomes],
        "ats": ats,
        "worker": worker,
    }


def _write(at: str | None) -> Any:
    """The per-row values of a settlement; ``at`` names the timestamp it sets, if any."""
    values: dict[str, Any] = {
        "state": bindparam("b_state"),
        "delivered_to": bindparam("b_delivered_to", type_=_OUTBOX.c.delivered_to.type),
        "last_error": bindparam("b_error"),
    }
    if at is not None:
        values[at] = bindparam("b_at", type_=_OUTBOX.c[at].type)
    return update(_OUTBOX).where(_OUTBOX.c.id == bindparam("b_id")).values(values)


_WRITE = {
    State.SENT: _write("sent_at"),
    State.PENDING: _write("next_attempt_at"),
    State.FAILED: _write(None),
}


@dataclass(frozen=True)
class Backlog:
    """The outbox at one moment: rows not yet sent, those of them due, the longest-waiting."""

    pending: int
    due: int
    oldest_due_at: datetime | None


async def backlog(session: AsyncSession, *, now: datetime) -> Backlog:
    """One aggregate over the (state, next_attempt_at) index; rows held until later (quiet
    hours, a retry's back-off) are pending but not due."""
    due = _OUTBOX.c.next_attempt_at <= now
    statement = select(
        func.count(),
        func.coalesce(func.sum(case((due, 1), else_=0)), 0),
        func.min(case((due, _OUTBOX.c.next_attempt_at))),
    ).where(_OUTBOX.c.state == State.PENDING.value)
    pending, due_count, oldest = (await session.execute(statement)).one()
    if isinstance(oldest, str):  # SQLite returns the aggregate of a CASE untyped
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return Backlog(int(pending), int(due_count), oldest)


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete rows written before ``before``, sent or not; returns how many."""
    result: Any = await session.execute(
        delete(PushOutboxRow).where(PushOutboxRow.created_at < before),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)
