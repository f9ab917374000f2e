from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, TextualSelect, and_, delete, or_, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.locations.fix import Fix
from telemetry.locations.keys import first_id_at
from telemetry.locations.models import LocationFix

_FIXES = LocationFix.metadata.tables[LocationFix.__tablename__]


# Each column's PostgreSQL type, for the array parameters of the bulk insert.
_PG_TYPES = {
    "id": "uuid",
    "child_id": "uuid",
    "device_id": "uuid",
    "source": "varchar",
    "fixed_at": "timestamptz",
    "received_at": "timestamptz",
    "latitude": "float8",
    "longitude": "float8",
    "accuracy_m": "float8",
    "altitude_m": "float8",
    "speed_mps": "float8",
    "heading_deg": "float8",
    "battery_pct": "int2",
    "charging": "boolean",
}


def _unnest_insert() -> TextualSelect:
    """PostgreSQL: one statement for any batch size, each column an array parameter (one
    statement to prepare, fourteen parameters to send, however many fixes)."""
    names = list(_FIXES.columns.keys())
    assert names == list(_PG_TYPES), "a column of location_fixes has no type in _PG_TYPES"
    arrays = ", ".join(f"CAST(:{name} AS {_PG_TYPES[name]}[])" for name in names)
    return text(
        f"INSERT INTO {_FIXES.name} ({', '.join(names)}) SELECT * FROM unnest({arrays}) "  # noqa: S608 - names from the model
        "ON CONFLICT (id) DO NOTHING RETURNING id"
    ).columns(_FIXES.c.id)


_UNNEST_INSERT = _unnest_insert()
# The columns that are a fix's own fields (the others: the id, and when it was received).
_FROM_FIX = [c.name for c in _FIXES.columns if c.name not in ("id", "received_at")]
assert set(_FROM_FIX) == set(Fix._fields), "location_fixes and Fix disagree"


async def insert_new(
    session: AsyncSession, fixes: Sequence[tuple[uuid.UUID, Fix]], *, received_at: datetime
) -> set[uuid.UUID]:
    """Store the fixes (with their ids) whose id is not stored yet, in one multi-row INSERT
    that skips the others (also those a concurrent transaction stores first); the ids of the
    fixes stored. Datetimes are aware and in UTC."""
    if not fixes:
        return set()
    ids = [fix_id for fix_id, _ in fixes]
    fields = dict(zip(Fix._fields, zip(*(fix for _, fix in fixes), strict=True), strict=True))
    fields["source"] = tuple(source.value for source in fields["source"])
    if session.get_bind().dialect.name == "postgresql":
        columns: dict[str, Any] = {
            "id": ids,
            "received_at": [received_at] * len(ids),
            **{name: list(fields[name]) for name in _FROM_FIX},
        }
        return set((await session.execute(_UNNEST_INSERT, columns)).scalars())
    rows = [
        {"id": fix_id, "received_at": received_at, **dict(zip(_FROM_FIX, values, strict=True))}
        for fix_id, values in zip(
            ids, zip(*(fields[name] for name in _FROM_FIX), strict=True), strict=True
        )
    ]
    statement = (
        sqlite.insert(_FIXES).on_conflict_do_nothing(index_elements=["id"]).returning(_FIXES.c.id)
    )
    return set((await session.execute(statement, rows)).scalars())


def _of_child(child_id: uuid.UUID, *, carrier: bool | None = None) -> Select[LocationFix]:
    query = select(LocationFix).where(LocationFix.child_id == child_id)
    if carrier is True:
        query = query.where(LocationFix.device_id.is_(None))
    elif carrier is False:
        query = query.where(LocationFix.device_id.is_not(None))
    return query


async def newest(
    session: AsyncSession, child_id: uuid.UUID, *, carrier: bool, since: datetime
) -> LocationFix | None:
    """The child's newest fix from the carrier (or from any device) taken at or after ``since``."""
    query = (
        _of_child(child_id, carrier=carrier)
        .where(LocationFix.fixed_at >= since)
        .order_by(LocationFix.fixed_at.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def page(
    session: AsyncSession,
    child_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    since: datetime,
    until: datetime | None,
) -> list[LocationFix]:
    """Up to ``limit`` fixes taken in [since, until), newest first, after the keyset ``after``."""
    query = _of_child(child_id).where(LocationFix.fixed_at >= since)
    if until is not None:
        query = query.where(LocationFix.fixed_at < until)
    if after is not None:
        at, row_id = after
        query = query.where(
            or_(
                LocationFix.fixed_at < at,
                and_(LocationFix.fixed_at == at, LocationFix.id < row_id),
            )
        )
    query = query.order_by(LocationFix.fixed_at.desc(), LocationFix.id.desc()).limit(limit)
    return list(await session.scalars(query))


async def newest_before(
    session: AsyncSession, child_id: uuid.UUID, *, before: datetime | None, since: datetime
) -> LocationFix | None:
    """The child's newest fix taken in [since, before)."""
    query = _of_child(child_id).where(LocationFix.fixed_at >= since)
    if before is not None:
        query = query.where(LocationFix.fixed_at < before)
    query = query.order_by(LocationFix.fixed_at.desc(), LocationFix.id.desc()).limit(1)
    return (await session.scalars(query)).first()


async def purge(session: AsyncSession, *, before: datetime) -> int:
    """Delete the fixes taken before ``before`` (to the millisecond): a range of the primary
    key, since ids begin with the fix time."""
    removed: Any = await session.execute(
        delete(LocationFix).where(LocationFix.id < first_id_at(before)),
        execution_options={"synchronize_session": False},
    )
    return int(removed.rowcount or 0)


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> int:
    removed: Any = await session.execute(
        delete(LocationFix).where(LocationFix.child_id == child_id),
        execution_options={"synchronize_session": False},
    )
    return int(removed.rowcount or 0)
