"""The recording of a listening session, over HTTP.

Device (device token, its own child's command, monitoring applies):
``PUT /v1/device/commands/{id}/audio`` uploads the recording as the raw body with its
``Content-Type``; the command is then done.

Guardian (access token): ``GET /v1/children/{child_id}/commands/{id}/audio`` gives the
recording to the guardian who started the session (404 for anyone else, other guardians of
the family included), while monitoring applies and the recording is kept. Every fetch is in
the audit log the child's device shows.

The routes are built for the carrier's size limit (``audio_routers(max_bytes)``) so the body
may pass the app's general limit on these routes alone, and the OpenAPI document says so.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from parental.audit import service as audit
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import InvalidAccessToken
from parental.children import service as children
from parental.children.acting import record
from parental.children.dependencies import OwnedChild
from parental.children.errors import ChildNotFound, MonitoringInactive
from parental.commands import audio, service
from parental.commands.errors import (
    AudioGone,
    AudioNotAccepted,
    AudioNotExpected,
    CommandExpired,
    CommandFinished,
    CommandNotFound,
    NoAudio,
)
from parental.commands.router import device_command_read
from parental.commands.schemas import DeviceCommandRead
from parental.consent import service as consent
from parental.consent.errors import ConsentRequired
from parental.consent.models import Purpose
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.devices.dependencies import CurrentDevice
from parental.devices.errors import InvalidDeviceToken
from parental.kit.errors import PayloadTooLarge, error_responses
from parental.kit.http import larger_body


def _audio_content() -> dict[str, Any]:
    """The accepted audio types as an OpenAPI ``content`` map (a new one for each use: FastAPI
    puts it into the document as is)."""
    return {t: {"schema": {"type": "string", "format": "binary"}} for t in audio.ACCEPTED_TYPES}


def _audio_body(max_bytes: int) -> dict[str, Any]:
    """``openapi_extra`` of the upload: the raw audio body, up to ``max_bytes``."""
    return {
        "requestBody": {
            "required": True,
            "description": f"The recording, as recorded (at most {max_bytes} bytes), with its "
            "Content-Type; parameters such as `codecs=opus` are allowed.",
            "content": _audio_content(),
        },
        **larger_body(max_bytes),
    }


def audio_routers(max_bytes: int) -> tuple[APIRouter, APIRouter]:
    """The guardian's and the device's routes, taking recordings of up to ``max_bytes``."""
    guardian = APIRouter(
        tags=["device commands"],
        responses=error_responses(InvalidAccessToken, ChildNotFound),
    )
    device = APIRouter(
        tags=["device agent"],
        responses=error_responses(InvalidDeviceToken, MonitoringInactive),
    )

    @device.put(
        "/device/commands/{command_id}/audio",
        openapi_extra=_audio_body(max_bytes),
        responses=error_responses(
            ConsentRequired,
            CommandNotFound,
            AudioNotExpected,
            CommandExpired,
            CommandFinished,
            AudioNotAccepted,
            PayloadTooLarge,
        ),
    )
    async def create_device_command_audio(
        command_id: uuid.UUID,
        request: Request,
        device: CurrentDevice,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> DeviceCommandRead:
        """Upload the recording of a listening session (the raw bytes, with their
        Content-Type: Ogg, WebM, MP4, AAC, MP3 or WAV); the session is then done. Uploading
        the same bytes again changes nothing; other bytes for a finished session are refused
        (409), an expired session is gone (410)."""
        now = runtime.clock.now()
        child = await children.monitored_child(session, device.child_id, now)
        # Consent withdrawn since the session began: the recording is not taken.
        await consent.require(session, runtime.settings, child, Purpose.LISTENING, now)
        command = await service.of_child(session, device.child_id, command_id)
        stored = await audio.store(
            session,
            runtime.settings,
            command,
            device_id=device.id,
            content_type=request.headers.get("content-type"),
            data=await request.body(),
            now=now,
        )
        if stored:
            await session.commit()
        return device_command_read(command, now)

    @guardian.get(
        "/children/{child_id}/commands/{command_id}/audio",
        response_class=Response,
        responses={
            200: {"description": "The recording, with its type.", "content": _audio_content()},
            **error_responses(
                MonitoringInactive, ConsentRequired, CommandNotFound, NoAudio, AudioGone
            ),
        },
    )
    async def get_child_command_audio(
        command_id: uuid.UUID,
        child: OwnedChild,
        account: CurrentAccount,
        session: SessionDep,
        runtime: RuntimeDep,
        ip: ClientIP,
    ) -> Response:
        """Play the recording of a listening session you started, while it is kept (24 hours
        by default). The child's device shows that you played it."""
        now = runtime.clock.now()
        children.require_monitoring(await children.monitoring_of(session, child, now))
        await consent.require(session, runtime.settings, child, Purpose.LISTENING, now)
        command = await service.of_child(session, child.id, command_id)
        if command.issued_by != account.id:
            raise CommandNotFound()  # the session is its issuer's alone
        kept = await audio.fetch(session, command, now)
        await record(
            session,
            child,
            audit.Actor("guardian", str(account.id)),
            at=now,
            action="command.audio_played",
            subject=("command", command.id),
            details={"command_id": str(command.id), "size": kept.size},
            ip=ip,
        )
        await session.commit()
        return Response(
            content=kept.data,
            media_type=kept.content_type,
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    return guardian, device
