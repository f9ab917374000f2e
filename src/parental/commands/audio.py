"""The recording a listening session ends with: uploaded once by the child's device, fetched
by the guardian who asked for it while it is kept, then purged.

- ``store`` takes the audio for a ``listen`` command that is neither finished nor expired.
  The declared type must be one of ``ACCEPTED_TYPES`` and the bytes must start the way that
  type starts (a phone that labels a text file ``audio/ogg`` is refused with 415, so the
  guardian's player is never handed something else). Storing it marks the command done, its
  result saying what was recorded and until when it can be fetched. The same bytes uploaded
  again (a retry whose answer was lost) change nothing.
- ``fetch`` gives the audio while it is kept; afterwards ``AudioGone`` (the command's result
  still says there was a recording), ``NoAudio`` if none was ever uploaded.
- ``purge`` deletes what has passed ``command_audio_retention_hours``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from parental.commands import service
from parental.commands.errors import (
    AudioGone,
    AudioNotAccepted,
    AudioNotExpected,
    CommandExpired,
    CommandFinished,
    NoAudio,
)
from parental.commands.models import CommandAudio, DeviceCommand
from parental.commands.schemas import FINISHED, CommandKind, CommandState
from parental.kit.errors import PayloadTooLarge
from parental.settings import ParentalSettings


def _ogg(data: bytes) -> bool:
    return data.startswith(b"OggS")


def _webm(data: bytes) -> bool:
    return data.startswith(b"\x1a\x45\xdf\xa3")  # the EBML header


def _mp4(data: bytes) -> bool:
    return data[4:8] == b"ftyp"  # ISO BMFF: the first box, after its 4-byte size


def _adts(data: bytes) -> bool:
    # 12 sync bits, then the MPEG version bit, then a layer of 00 (what ADTS always has).
    return len(data) >= 2 and data[0] == 0xFF and data[1] & 0xF6 == 0xF0


def _mpeg(data: bytes) -> bool:
    # An ID3v2 tag first, or straight into a frame (11 sync bits).
    return data.startswith(b"ID3") or (len(data) >= 2 and data[0] == 0xFF and data[1] >= 0xE0)


def _wav(data: bytes) -> bool:
    return data.startswith(b"RIFF") and data[8:12] == b"WAVE"


# The media types a device may upload, each with the check that the bytes are that type.
ACCEPTED_TYPES: dict[str, Callable[[bytes], bool]] = {
    "audio/ogg": _ogg,
    "audio/webm": _webm,
    "audio/mp4": _mp4,
    "audio/aac": _adts,
    "audio/mpeg": _mpeg,
    "audio/wav": _wav,
}


def media_type(content_type: str | None) -> str:
    """The accepted media type ``content_type`` names (parameters such as ``codecs`` are
    allowed and dropped); ``AudioNotAccepted`` for any other."""
    bare = (content_type or "").split(";", 1)[0].strip().lower()
    if bare not in ACCEPTED_TYPES:
        raise AudioNotAccepted(
            f"Upload the recording as one of {', '.join(ACCEPTED_TYPES)}; "
            f"got {bare or 'no Content-Type'}."
        )
    return bare


def check_audio(content_type: str | None, data: bytes, *, max_bytes: int) -> str:
    """The media type of an upload whose size and bytes are acceptable, or why not."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"A recording is at most {max_bytes} bytes.")
    kind = media_type(content_type)
    if not data:
        raise AudioNotAccepted("The recording is empty.")
    if not ACCEPTED_TYPES[kind](data):
        raise AudioNotAccepted(f"The bytes uploaded are not {kind}.")
    return kind


async def store(
    session: AsyncSession,
    settings: ParentalSettings,
    command: DeviceCommand,
    *,
    device_id: uuid.UUID,
    content_type: str | None,
    data: bytes,
    now: datetime,
) -> bool:
    """Keep ``data`` as the recording of ``command`` and mark the command done; whether
    anything changed (the same bytes again change nothing)."""
    if command.kind != CommandKind.LISTEN.value:
        raise AudioNotExpected()
    kind = check_audio(content_type, data, max_bytes=settings.command_audio_max_bytes)
    # Two uploads at once for one command: the second waits here and then sees the first.
    await session.refresh(command, with_for_update=True)
    digest = hashlib.sha256(data).hexdigest()
    state = service.state_at(command, now)
    if state is CommandState.EXPIRED:
        raise CommandExpired()
    if state in FINISHED:
        kept = await session.scalar(
            select(CommandAudio.sha256).where(CommandAudio.command_id == command.id)
        )
        if state is CommandState.DONE and kept == digest:
            return False
        raise CommandFinished()
    expires_at = now + timedelta(hours=settings.command_audio_retention_hours)
    session.add(
        CommandAudio(
            command_id=command.id,
            content_type=kind,
            size=len(data),
            sha256=digest,
            data=data,
            uploaded_at=now,
            expires_at=expires_at,
        )
    )
    service.finish(
        command,
        device_id=device_id,
        state=CommandState.DONE,
        now=now,
        result={
            "audio": {
                "content_type": kind,
                "size": len(data),
                "available_until": expires_at.isoformat(),
            }
        },
    )
    return True


async def fetch(session: AsyncSession, command: DeviceCommand, now: datetime) -> CommandAudio:
    """The recording of ``command`` while it is kept."""
    kept = await session.get(CommandAudio, command.id)
    if kept is not None and now < kept.expires_at:
        return kept
    if kept is not None or "audio" in command.result:
        raise AudioGone()
    raise NoAudio()


async def purge(session: AsyncSession, *, now: datetime) -> int:
    """Delete the recordings kept until ``now`` or before; how many."""
    result: Any = await session.execute(
        delete(CommandAudio).where(CommandAudio.expires_at <= now),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)
