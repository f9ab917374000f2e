"""Consent and transparency over HTTP.

Guardian (access token, a child of the caller's family: 404 otherwise):
``GET /v1/children/{id}/consents`` (the state and every change) and
``PUT /v1/children/{id}/consents`` (give or withdraw one purpose).

Device (device token, its own child only): ``GET``/``PUT /v1/device/consents`` (the child's own
consent to messages and listening, from ``child_consent_age``), and
``GET /v1/device/transparency``, the feed of what is collected and who did what.

A change of the location consent voids the read and upload grants of the child's fast paths
once committed, so the next upload goes through the full route and its consent check.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header

from parental.audit import service as audit
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import repository as children_repository
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound
from parental.children.models import Child
from parental.consent import service, texts, transparency
from parental.consent.errors import ChildConsentNotNeeded, ConsentTextMismatch
from parental.consent.models import Party, Purpose
from parental.consent.schemas import (
    ChildConsentChange,
    ConsentChange,
    ConsentRecordRead,
    ConsentsRead,
    ConsentState,
    PurposeConsentRead,
    TransparencyRead,
)
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.devices.dependencies import CurrentDevice
from parental.devices.errors import InvalidDeviceToken
from parental.kit.errors import error_responses
from parental.kit.paging import DEFAULT_PAGE_SIZE, CursorQuery, InvalidCursor, LimitQuery
from parental.runtime import Runtime

guardian_router = APIRouter(
    tags=["consent"], responses=error_responses(InvalidAccessToken, ChildNotFound)
)
device_router = APIRouter(tags=["device agent"], responses=error_responses(InvalidDeviceToken))

CONSENTS = "/children/{child_id}/consents"


def _before(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 12:
        raise InvalidCursor()
    return int(cursor)


def _after_change(
    background: BackgroundTasks, runtime: Runtime, child: Child, purpose: Purpose
) -> None:
    if purpose is Purpose.LOCATION:
        # After commit (background tasks run once the response is sent): the fast paths'
        # grants in every process (parental.children.grants).
        background.add_task(runtime.revoke_access, [child.id])


@guardian_router.get(CONSENTS, responses=error_responses(InvalidCursor))
async def get_child_consents(
    child: OwnedChild,
    session: SessionDep,
    runtime: RuntimeDep,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> ConsentsRead:
    """The consent in force per purpose (yours and, for messages and listening from the
    carrier's age, the child's), and every change, newest first."""
    now = runtime.clock.now()
    states = await service.current(session, runtime.settings, child, now)
    rows = await service.history(session, child.id, limit=limit + 1, before=_before(cursor))
    state = await transparency.consent_state(session, runtime.settings, child, states)
    return ConsentsRead(
        **state.model_dump(),
        history=[ConsentRecordRead.of(r) for r in rows[:limit]],
        next_cursor=str(rows[limit - 1].number) if len(rows) > limit else None,
    )


@guardian_router.put(CONSENTS, responses=error_responses(ConsentTextMismatch))
async def update_child_consent(
    body: ConsentChange,
    child: OwnedChild,
    account: CurrentAccount,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
    background: BackgroundTasks,
) -> PurposeConsentRead:
    """Give or withdraw your consent to collecting one kind of the child's data. Withdrawn,
    nothing more of it is collected (the child's phone is refused with ``ConsentRequired``)
    and message excerpts or transcripts are not shown. The child's device shows the change."""
    now = runtime.clock.now()
    changed = await service.change(
        session,
        runtime.settings,
        child=child,
        party=Party.GUARDIAN,
        purpose=body.purpose,
        granted=body.granted,
        text_version=body.text_version,
        actor=audit.Actor("guardian", str(account.id)),
        now=now,
        ip=ip,
    )
    if changed:
        _after_change(background, runtime, child, body.purpose)
    return PurposeConsentRead.of(
        await service.of_purpose(session, runtime.settings, child, body.purpose, now)
    )


async def _device_child(device: CurrentDevice, session: SessionDep) -> Child:
    child = await children_repository.get(session, device.child_id)
    assert child is not None  # devices.child_id is a foreign key with cascade
    return child


@device_router.get("/device/consents")
async def get_device_consents(
    device: CurrentDevice, session: SessionDep, runtime: RuntimeDep
) -> ConsentState:
    """The consents in force for this child: the guardians' and the child's own."""
    child = await _device_child(device, session)
    states = await service.current(session, runtime.settings, child, runtime.clock.now())
    return await transparency.consent_state(session, runtime.settings, child, states)


@device_router.put(
    "/device/consents", responses=error_responses(ConsentTextMismatch, ChildConsentNotNeeded)
)
async def update_device_consent(
    body: ChildConsentChange,
    device: CurrentDevice,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
    background: BackgroundTasks,
) -> PurposeConsentRead:
    """The child gives or withdraws their own consent to message excerpts or listening (from
    the carrier's age, 14 by default; before it the guardians decide, 409). Withdrawn, the
    phone uploads no messages (or recordings) and guardians read none; they see the change."""
    child = await _device_child(device, session)
    now = runtime.clock.now()
    purpose = Purpose(body.purpose)
    changed = await service.change(
        session,
        runtime.settings,
        child=child,
        party=Party.CHILD,
        purpose=purpose,
        granted=body.granted,
        text_version=body.text_version,
        actor=audit.Actor("device", str(device.id)),
        now=now,
        ip=ip,
    )
    if changed:
        _after_change(background, runtime, child, purpose)
    return PurposeConsentRead.of(
        await service.of_purpose(session, runtime.settings, child, purpose, now)
    )


@device_router.get("/device/transparency", responses=error_responses(InvalidCursor))
async def get_device_transparency(
    device: CurrentDevice,
    session: SessionDep,
    runtime: RuntimeDep,
    accept_language: Annotated[str | None, Header(max_length=200)] = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
    cursor: CursorQuery = None,
) -> TransparencyRead:
    """For the child: what is collected now (location, app usage, messages, listening, the
    blocked kinds of sites) and why not, the consents in force, and every action of the
    guardians on the child's data, newest first, with who and when, in the child's language
    (``Accept-Language``: kk, ru or en). Nothing can hide an entry."""
    child = await _device_child(device, session)
    return await transparency.feed(
        session,
        runtime,
        child,
        locale=texts.negotiate(accept_language),
        limit=limit,
        cursor=cursor,
    )
