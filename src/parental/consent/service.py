"""Consent per purpose: recording changes, the current state, and the check every collection
and read of consented data makes.

- A guardian gives or withdraws consent per purpose (``Purpose``), agreeing to the consent
  text of ``consent_text_version``. Every change is a new ``ConsentRecord``; the current state
  of a purpose is the latest row of each party.
- Location and app usage are the product the guardian takes up by adding the child on a child
  SIM under their own contract: without a row they count as consented since the child was
  added (children added before consent was recorded keep working, with no back-filled rows a
  guardian never saw). A guardian may withdraw them like any other purpose.
- Messages and listening need the guardian's explicit consent and, from the child's
  ``child_consent_age`` birthday (in the child's zone), the child's own, given on the device.
  Below that age the guardians' consent is enough, and the child's device cannot record one.
  The age is the carrier's (``parental.age_policy``; the setting until the carrier sets one).
- ``require`` is asked before anything of a purpose is collected or read: without the needed
  consent it raises ``ConsentRequired`` naming the purpose and whose consent is missing.

Services never commit; the request's session does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.age_policy import service as age_policy
from parental.audit import service as audit
from parental.children.models import Child
from parental.children.monitoring import local_today
from parental.consent.errors import ChildConsentNotNeeded, ConsentRequired, ConsentTextMismatch
from parental.consent.models import ConsentRecord, Party, Purpose
from parental.settings import ParentalSettings

IMPLIED_BY_ADDING_CHILD = frozenset({Purpose.LOCATION, Purpose.APP_USAGE})
CHILD_CONSENT_PURPOSES = frozenset({Purpose.MESSAGES, Purpose.LISTENING})

Basis = Literal["recorded", "child_added", "none"]


@dataclass(frozen=True)
class PartyConsent:
    granted: bool
    basis: Basis  # a recorded row, implied by adding the child, or nothing given yet
    text_version: str | None = None
    at: datetime | None = None
    by: str | None = None  # the guardian's account id or the child's device id


@dataclass(frozen=True)
class PurposeConsent:
    purpose: Purpose
    guardian: PartyConsent
    child: PartyConsent | None  # None: this purpose never asks the child
    child_required: bool  # the child is old enough that their own consent is needed

    @property
    def missing(self) -> list[str]:
        """Whose consent is missing for the purpose to be collected ([] when it may be)."""
        out = [] if self.guardian.granted else [Party.GUARDIAN.value]
        if self.child_required and not (self.child and self.child.granted):
            out.append(Party.CHILD.value)
        return out

    @property
    def effective(self) -> bool:
        return not self.missing


def turns(birthdate: date, age: int) -> date:
    """The day the child turns ``age`` (29 February: the 28th, as for the 18th birthday)."""
    try:
        return birthdate.replace(year=birthdate.year + age)
    except ValueError:
        return date(birthdate.year + age, 2, 28)


def own_consent_from(consent_age: int, child: Child) -> date:
    """The day from which the child's own consent is needed for messages and listening
    (``consent_age``: the age policy's ``child_consent_age``)."""
    return turns(child.birthdate, consent_age)


def child_consent_required(consent_age: int, child: Child, now: datetime) -> bool:
    return local_today(now, child.timezone) >= own_consent_from(consent_age, child)


async def consent_age(session: AsyncSession, settings: ParentalSettings) -> int:
    """The age from which the child's own consent is needed (the carrier's age policy)."""
    return (await age_policy.current(session, settings)).child_consent_age


def _party(row: ConsentRecord | None, child: Child, purpose: Purpose, party: Party) -> PartyConsent:
    if row is not None:
        return PartyConsent(
            row.granted, "recorded", row.text_version, row.recorded_at, row.actor_id
        )
    if party is Party.GUARDIAN and purpose in IMPLIED_BY_ADDING_CHILD:
        return PartyConsent(True, "child_added", None, child.created_at, None)
    return PartyConsent(False, "none")


async def _latest_rows(
    session: AsyncSession, child_id: uuid.UUID, purposes: Iterable[Purpose]
) -> dict[tuple[str, str], ConsentRecord]:
    """The latest row of each party for each of ``purposes``."""
    wanted = [p.value for p in purposes]
    numbers = (
        select(func.max(ConsentRecord.number))
        .where(ConsentRecord.child_id == child_id, ConsentRecord.purpose.in_(wanted))
        .group_by(ConsentRecord.purpose, ConsentRecord.party)
    )
    rows = await session.scalars(
        select(ConsentRecord).where(
            ConsentRecord.child_id == child_id, ConsentRecord.number.in_(numbers)
        )
    )
    return {(r.purpose, r.party): r for r in rows}


async def current(
    session: AsyncSession,
    settings: ParentalSettings,
    child: Child,
    now: datetime,
    purposes: Iterable[Purpose] = tuple(Purpose),
) -> list[PurposeConsent]:
    """The consent in force for each of ``purposes``, guardian's and child's."""
    wanted = list(purposes)
    latest = await _latest_rows(session, child.id, wanted)
    needs_child = not CHILD_CONSENT_PURPOSES.isdisjoint(wanted) and child_consent_required(
        await consent_age(session, settings), child, now
    )
    out = []
    for purpose in wanted:
        asks_child = purpose in CHILD_CONSENT_PURPOSES
        guardian_row = latest.get((purpose.value, Party.GUARDIAN.value))
        child_row = latest.get((purpose.value, Party.CHILD.value))
        out.append(
            PurposeConsent(
                purpose=purpose,
                guardian=_party(guardian_row, child, purpose, Party.GUARDIAN),
                child=_party(child_row, child, purpose, Party.CHILD) if asks_child else None,
                child_required=asks_child and needs_child,
            )
        )
    return out


async def of_purpose(
    session: AsyncSession, settings: ParentalSettings, child: Child, purpose: Purpose, now: datetime
) -> PurposeConsent:
    return (await current(session, settings, child, now, [purpose]))[0]


async def require(
    session: AsyncSession, settings: ParentalSettings, child: Child, purpose: Purpose, now: datetime
) -> None:
    """``ConsentRequired`` unless ``purpose`` may be collected (and read) for ``child`` now."""
    state = await of_purpose(session, settings, child, purpose, now)
    if not state.effective:
        raise ConsentRequired(purpose.value, state.missing)


def checked_version(settings: ParentalSettings, granted: bool, text_version: str | None) -> str:
    """The text version a change is recorded under. A grant must name the current text (what
    the person read); a withdrawal is never refused for naming an older one."""
    current_version = settings.consent_text_version
    if granted and text_version != current_version:
        raise ConsentTextMismatch(
            f"Consent is given to the current consent text, version {current_version}; "
            f"the request named {text_version!r}."
        )
    return text_version or current_version


async def _next_number(session: AsyncSession, child_id: uuid.UUID) -> int:
    """The number of the child's next row, counted under a lock on the child's row so two
    changes at once cannot take the same number (SQLite has one writer at a time anyway)."""
    await session.execute(select(Child.id).where(Child.id == child_id).with_for_update())
    top = await session.scalar(
        select(func.max(ConsentRecord.number)).where(ConsentRecord.child_id == child_id)
    )
    return (top or 0) + 1


async def _add(
    session: AsyncSession,
    child: Child,
    *,
    purpose: Purpose,
    party: Party,
    granted: bool,
    text_version: str,
    actor_id: str,
    now: datetime,
) -> ConsentRecord:
    row = ConsentRecord(
        child_id=child.id,
        number=await _next_number(session, child.id),
        purpose=purpose.value,
        party=party.value,
        granted=granted,
        text_version=text_version,
        actor_id=actor_id,
        recorded_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def change(
    session: AsyncSession,
    settings: ParentalSettings,
    *,
    child: Child,
    party: Party,
    purpose: Purpose,
    granted: bool,
    text_version: str | None,
    actor: audit.Actor,
    now: datetime,
    ip: str | None = None,
) -> bool:
    """Record that ``party`` gives or withdraws consent to ``purpose``, audited for the child
    and the guardians to see; whether anything changed (the same answer to the same text
    again records nothing)."""
    if party is Party.CHILD:
        age = await consent_age(session, settings)
        if not child_consent_required(age, child, now):
            raise ChildConsentNotNeeded(
                f"Below {age}, the guardians' consent decides; the child's own is asked from "
                f"{own_consent_from(age, child).isoformat()}."
            )
    version = checked_version(settings, granted, text_version)
    latest = (await _latest_rows(session, child.id, [purpose])).get((purpose.value, party.value))
    if latest is not None and latest.granted == granted and latest.text_version == version:
        return False
    await _add(
        session,
        child,
        purpose=purpose,
        party=party,
        granted=granted,
        text_version=version,
        actor_id=str(actor.id),
        now=now,
    )
    await audit.record(
        session,
        at=now,
        action="consent.granted" if granted else "consent.withdrawn",
        actor=actor,
        family_id=child.family_id,
        child_id=child.id,
        subject_type="consent",
        subject_id=purpose.value,
        child_visible=True,
        ip=ip,
        details={"purpose": purpose.value, "party": party.value, "text_version": version},
    )
    return True


async def record_at_creation(
    session: AsyncSession,
    *,
    child: Child,
    account_id: uuid.UUID,
    purposes: Iterable[Purpose],
    text_version: str | None,
    now: datetime,
) -> dict[str, object]:
    """The guardian's consents given with adding the child (the app's form asks for them),
    to the text ``text_version`` (``checked_version``): recorded as rows; returns what the
    ``child.added`` audit row says of them."""
    wanted = sorted(set(purposes))
    if not wanted or text_version is None:
        return {}
    version = text_version
    for purpose in wanted:
        await _add(
            session,
            child,
            purpose=purpose,
            party=Party.GUARDIAN,
            granted=True,
            text_version=version,
            actor_id=str(account_id),
            now=now,
        )
    return {"consents": [p.value for p in wanted], "consent_text_version": version}


async def history(
    session: AsyncSession, child_id: uuid.UUID, *, limit: int, before: int | None
) -> list[ConsentRecord]:
    """Up to ``limit`` of the child's rows, newest first, below number ``before``."""
    query = select(ConsentRecord).where(ConsentRecord.child_id == child_id)
    if before is not None:
        query = query.where(ConsentRecord.number < before)
    query = query.order_by(ConsentRecord.number.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def erase_child(session: AsyncSession, child_id: uuid.UUID) -> int:
    """Delete the child's consent rows (the audit log keeps every change); how many."""
    result = await session.execute(
        delete(ConsentRecord).where(ConsentRecord.child_id == child_id),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)
