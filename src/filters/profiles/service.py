"""Each child's filter profile: created from the age band's defaults, edited by guardians."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from filters.categories.catalog import age_band
from filters.curation import repository as curation
from filters.curation import service as categories
from filters.engine.normalize import InvalidTarget, normalize_target
from filters.engine.profile import CategorySetting, Mode, PersonalEntry, Profile, Window
from filters.engine.rules import Action, Scope
from filters.profiles import repository
from filters.profiles.errors import EntryNotFound, InvalidEntry, InvalidSchedule, UnknownCategory
from filters.profiles.models import FilterProfile, FilterProfileEntry
from filters.profiles.schemas import (
    CategorySettingSchema,
    EntryCreate,
    EntryRead,
    ProfileRead,
    ProfileUpdate,
)


async def profile_for_child(
    session: AsyncSession,
    *,
    child_id: uuid.UUID,
    birthdate: date,
    timezone: str,
    today: date,
    now: datetime,
) -> FilterProfile:
    """The child's profile; made on first use from the defaults of the child's age band.

    A category curators added since the profile was made joins it with its default for the
    child's age band now; the guardian's settings of every other category stay as they are.
    """
    row = await repository.by_child(session, child_id)
    if row is None:
        await categories.seed_categories(session, now=now)
    band = age_band(birthdate, today).value
    defaults: dict[str, Any] = {
        c.key: {"mode": "always" if c.defaults.get(band, False) else "off", "windows": []}
        for c in await curation.categories(session)
    }
    if row is None:
        row = FilterProfile(
            child_id=child_id,
            timezone=timezone,
            safesearch=True,
            categories=defaults,
            created_at=now,
            updated_at=now,
        )
        return await repository.add_profile_once(session, row)
    if row.timezone != timezone:  # the child's zone is the parental record's to decide
        row.timezone = timezone
    missing = defaults.keys() - row.categories.keys()
    if missing:
        row.categories = {**row.categories, **{key: defaults[key] for key in missing}}
        row.updated_at = now
    return row


async def read(session: AsyncSession, row: FilterProfile) -> ProfileRead:
    return ProfileRead(
        id=row.id,
        child_id=row.child_id,
        timezone=row.timezone,
        safesearch=row.safesearch,
        categories={k: CategorySettingSchema.model_validate(v) for k, v in row.categories.items()},
        entries=[entry_read(e) for e in await repository.entries(session, row.id)],
    )


async def update(
    session: AsyncSession, row: FilterProfile, body: ProfileUpdate, *, now: datetime
) -> FilterProfile:
    if body.safesearch is not None:
        row.safesearch = body.safesearch
    if body.categories is not None:
        known = {c.key for c in await curation.categories(session)}
        merged: dict[str, Any] = dict(row.categories)
        for key, setting in body.categories.items():
            if key not in known:
                raise UnknownCategory(f"No such category: {key}")
            if setting.mode == "scheduled" and not setting.windows:
                raise InvalidSchedule(f"{key}: a scheduled category needs at least one window")
            merged[key] = setting.model_dump(mode="json")
        row.categories = merged
    row.updated_at = now
    return row


async def add_entry(
    session: AsyncSession, row: FilterProfile, body: EntryCreate, *, actor: str, now: datetime
) -> FilterProfileEntry:
    try:
        host = normalize_target(body.host).host
    except InvalidTarget as exc:
        raise InvalidEntry(f"{InvalidEntry.message} ({exc.reason})") from exc
    if body.expires_at is not None and body.expires_at <= now:
        raise InvalidEntry()
    entry = FilterProfileEntry(
        profile_id=row.id,
        host=host,
        scope=Scope.SUBTREE.value if body.subdomains else Scope.EXACT.value,
        action=body.action,
        expires_at=body.expires_at,
        created_by=actor,
        created_at=now,
    )
    await repository.add(session, entry)
    row.updated_at = now
    return entry


async def remove_entry(
    session: AsyncSession, row: FilterProfile, entry_id: uuid.UUID, *, now: datetime
) -> None:
    for entry in await repository.entries(session, row.id):
        if entry.id == entry_id:
            await repository.delete(session, entry)
            row.updated_at = now
            return
    raise EntryNotFound()


async def engine_profile(session: AsyncSession, row: FilterProfile) -> Profile:
    """The profile as the engine evaluates it."""
    return Profile(
        timezone=row.timezone,
        categories={
            key: CategorySetting(
                Mode(value["mode"]),
                tuple(
                    Window(frozenset(w["days"]), _time(w["start"]), _time(w["end"]))
                    for w in value.get("windows", [])
                ),
            )
            for key, value in row.categories.items()
        },
        entries=tuple(
            PersonalEntry(e.host, Scope(e.scope), Action(e.action), e.expires_at)
            for e in await repository.entries(session, row.id)
        ),
        safesearch=row.safesearch,
    )


def _time(text: str) -> time:
    return time.fromisoformat(text)


def entry_read(entry: FilterProfileEntry) -> EntryRead:
    return EntryRead(
        id=entry.id,
        host=entry.host,
        scope="exact" if entry.scope == Scope.EXACT.value else "subtree",
        action="allow" if entry.action == "allow" else "block",
        expires_at=entry.expires_at,
        created_at=entry.created_at,
    )
