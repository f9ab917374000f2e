"""Reading the age policy in force and the carrier's changes to it. Services never commit;
the caller commits and then puts the new policy in its process's cache."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from parental.age_policy import repository
from parental.age_policy.cache import AgePolicyCache, age_policy_cache
from parental.age_policy.policy import AgePolicy
from parental.audit import service as audit
from parental.settings import ParentalSettings


async def current(
    session: AsyncSession, settings: ParentalSettings, *, cache: AgePolicyCache = age_policy_cache
) -> AgePolicy:
    """The policy in force: the carrier's, or the deployment's settings while it has set none.
    Cheap enough for every request (``cache``: read at most once a second per process)."""
    return await cache.stored(session) or AgePolicy.defaults(settings)


async def committed(session: AsyncSession, settings: ParentalSettings) -> AgePolicy:
    """The policy as committed now, bypassing the cache (what the carrier reads back)."""
    return await repository.stored(session) or AgePolicy.defaults(settings)


async def change(
    session: AsyncSession,
    settings: ParentalSettings,
    policy: AgePolicy,
    *,
    actor: audit.Actor,
    now: datetime,
) -> tuple[AgePolicy, bool]:
    """Store ``policy`` (already validated: ``schemas.AgePolicyUpdate``) as the carrier's, with
    an audit row saying who changed what from what; returns the policy now and whether
    anything changed (the same values again record nothing)."""
    by = actor.id or actor.type
    row = await repository.locked(session)
    if row is None:
        old = AgePolicy.defaults(settings)
        if not await repository.create(session, policy, at=now, by=by):
            row = await repository.locked(session)  # stored meanwhile by another request
    if row is not None:
        old = repository.policy_of(row)
        if old.values() == policy.values():
            return old, False
        row.transcripts_under_age = policy.transcripts_under_age
        row.excerpts_under_age = policy.excerpts_under_age
        row.listen_age_bands = [b.value for b in policy.listen_age_bands]
        row.child_consent_age = policy.child_consent_age
        row.updated_at = now
        row.updated_by = by
    new = replace(policy, updated_at=now, updated_by=by)
    await audit.record(
        session,
        at=now,
        action="age_policy.changed",
        actor=actor,
        subject_type="age_policy",
        details={"old": old.values(), "new": new.values(), "old_source": old.source},
    )
    return new, True
