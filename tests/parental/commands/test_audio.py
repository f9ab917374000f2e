"""The recording of a listening session: uploaded by the child's device, played by the guardian
who asked for it (audited for the child), refused when it is not audio, too large, late or not
the device's, and purged after the retention time."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from parental.app import create_app
from parental.commands.audio import check_audio
from parental.commands.errors import AudioNotAccepted
from parental.commands.models import CommandAudio, DeviceCommand
from parental.kit.clock import FrozenClock
from parental.kit.errors import PayloadTooLarge
from parental.runtime import Runtime
from parental.worker import purge_expired
from tests.parental.commands.conftest import give
from tests.parental.factories import FamilyWorld, Guardian, register_line, sign_in

MIB = 1024 * 1024
OGG = b"OggS\x00\x02" + bytes(range(256)) * 4
WAV = b"RIFF\x24\x08\x00\x00WAVEfmt " + bytes(64)
SECOND_PHONE = "+77015550777"


def ogg(size: int) -> bytes:
    return (OGG * (size // len(OGG) + 1))[:size]


async def listen(client: httpx.AsyncClient, family: FamilyWorld) -> str:
    response = await give(client, family, {"kind": "listen", "seconds": 30})
    assert response.status_code == 201, response.text
    command_id: str = response.json()["id"]
    return command_id


async def upload(
    client: httpx.AsyncClient,
    family: FamilyWorld,
    command_id: str,
    data: bytes,
    content_type: str = "audio/ogg; codecs=opus",
) -> httpx.Response:
    return await client.put(
        f"/v1/device/commands/{command_id}/audio",
        headers={**family.device_headers, "Content-Type": content_type},
        content=data,
    )


async def play(
    client: httpx.AsyncClient, family: FamilyWorld, command_id: str, guardian: Guardian
) -> httpx.Response:
    return await client.get(
        f"/v1/children/{family.child_id}/commands/{command_id}/audio", headers=guardian.headers
    )


async def command_of(
    client: httpx.AsyncClient, family: FamilyWorld, command_id: str
) -> dict[str, Any]:
    response = await client.get(
        f"/v1/children/{family.child_id}/commands/{command_id}", headers=family.guardian.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def stored(runtime: Runtime, command_id: str) -> CommandAudio | None:
    async with runtime.sessions() as session:
        return await session.get(CommandAudio, uuid.UUID(command_id))


async def second_guardian(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> Guardian:
    invited = await client.post(
        f"/v1/families/{family.family_id}/invitations",
        headers=family.guardian.headers,
        json={"phone": SECOND_PHONE},
    )
    assert invited.status_code == 201, invited.text
    second = await sign_in(client, runtime, SECOND_PHONE)
    accepted = await client.post(
        f"/v1/invitations/{invited.json()['id']}/accept", headers=second.headers
    )
    assert accepted.status_code == 200, accepted.text
    return second


async def test_the_guardian_plays_what_the_device_uploaded_and_the_child_sees_it(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    command_id = await listen(client, family)
    # Over the app's general 1 MiB body limit, under the recording's 2 MiB.
    data = ogg(MIB + MIB // 2)
    clock.advance(timedelta(seconds=40))

    uploaded = await upload(client, family, command_id, data)

    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["state"] == "done"
    command = await command_of(client, family, command_id)
    available_until = clock.now() + timedelta(hours=24)
    assert command["state"] == "done"
    assert command["device_id"] == family.device_id
    assert command["result"]["audio"] == {
        "content_type": "audio/ogg",
        "size": len(data),
        "available_until": available_until.isoformat(),
    }

    played = await play(client, family, command_id, family.guardian)

    assert played.status_code == 200, played.text
    assert played.content == data
    assert played.headers["content-type"] == "audio/ogg"
    assert played.headers["cache-control"] == "no-store"
    events = await client.get("/v1/device/audit-events", headers=family.device_headers)
    assert events.status_code == 200, events.text
    heard = [e for e in events.json()["items"] if e["action"] == "command.audio_played"]
    assert [(e["actor_id"], e["subject_id"]) for e in heard] == [
        (family.guardian.account_id, command_id)
    ]


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/plain", OGG),  # not an audio type
        ("audio/x-flac", b"fLaC" + bytes(64)),  # audio, but not one taken
        ("audio/ogg", WAV),  # the bytes are not what the type says
        ("audio/wav", OGG),
        ("audio/ogg", b""),
    ],
)
async def test_what_is_not_the_audio_it_says_is_refused_and_nothing_is_kept(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    content_type: str,
    data: bytes,
) -> None:
    command_id = await listen(client, family)

    refused = await upload(client, family, command_id, data, content_type)

    assert refused.status_code == 415, refused.text
    assert refused.json()["error"] == "AudioNotAccepted"
    assert await stored(runtime, command_id) is None
    assert (await command_of(client, family, command_id))["state"] == "pending"


async def test_a_recording_over_the_limit_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, family: FamilyWorld
) -> None:
    command_id = await listen(client, family)

    refused = await upload(client, family, command_id, ogg(2 * MIB + 1))

    assert refused.status_code == 413, refused.text
    assert refused.json()["error"] == "PayloadTooLarge"
    assert await stored(runtime, command_id) is None


def test_each_type_is_known_by_its_first_bytes() -> None:
    good = {
        "audio/ogg": OGG,
        "audio/webm": b"\x1a\x45\xdf\xa3" + bytes(32),
        "audio/mp4": b"\x00\x00\x00\x20ftypM4A " + bytes(32),
        "audio/aac": b"\xff\xf1\x50\x80" + bytes(32),
        "audio/mpeg": b"ID3\x04\x00" + bytes(32),
        "audio/wav": WAV,
    }
    # An ADTS header is also an MPEG audio frame sync (0xFFF within 0xFFE): that pair passes.
    overlapping = {("audio/aac", "audio/mpeg")}
    for content_type, data in good.items():
        assert check_audio(f"{content_type.upper()}; x=1", data, max_bytes=MIB) == content_type
        for other in good.keys() - {content_type}:
            if (content_type, other) not in overlapping:
                with pytest.raises(AudioNotAccepted):
                    check_audio(other, data, max_bytes=MIB)
    assert check_audio("audio/mpeg", b"\xff\xfb\x90\x64" + bytes(32), max_bytes=MIB)
    with pytest.raises(AudioNotAccepted):  # MPEG frame sync, but layer 00: not ADTS AAC
        check_audio("audio/aac", b"\xff\xfb\x90\x64" + bytes(32), max_bytes=MIB)
    with pytest.raises(PayloadTooLarge):  # when the app's own body limit is the larger one
        check_audio("audio/ogg", ogg(1025), max_bytes=1024)


async def test_only_the_guardian_who_asked_plays_it_and_only_the_childs_device_uploads(
    client: httpx.AsyncClient,
    runtime: Runtime,
    family: FamilyWorld,
    other_family: FamilyWorld,
) -> None:
    command_id = await listen(client, family)

    theirs = await upload(client, other_family, command_id, OGG)

    assert theirs.status_code == 404, theirs.text
    assert theirs.json()["error"] == "CommandNotFound"
    assert (await upload(client, family, command_id, OGG)).status_code == 200
    second = await second_guardian(client, runtime, family)
    other_guardian = await play(client, family, command_id, second)
    assert other_guardian.status_code == 404, other_guardian.text
    assert other_guardian.json()["error"] == "CommandNotFound"
    stranger = await play(client, family, command_id, other_family.guardian)
    assert stranger.status_code == 404, stranger.text
    assert (await play(client, family, command_id, family.guardian)).status_code == 200


async def test_not_a_listening_session_or_not_uploaded_yet(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    ring = await give(client, family, {"kind": "ring"})
    assert ring.status_code == 201, ring.text
    command_id = await listen(client, family)

    not_listen = await upload(client, family, ring.json()["id"], OGG)
    nothing_yet = await play(client, family, command_id, family.guardian)

    assert not_listen.status_code == 409, not_listen.text
    assert not_listen.json()["error"] == "AudioNotExpected"
    assert nothing_yet.status_code == 404, nothing_yet.text
    assert nothing_yet.json()["error"] == "NoAudio"


async def test_an_upload_after_the_session_expired_is_gone(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    command_id = await listen(client, family)
    command = await command_of(client, family, command_id)
    expires_at = datetime.fromisoformat(command["expires_at"])
    clock.advance(expires_at - clock.now())

    late = await upload(client, family, command_id, OGG)

    assert late.status_code == 410, late.text
    assert late.json()["error"] == "CommandExpired"
    assert await stored(runtime, command_id) is None


async def test_the_same_bytes_again_change_nothing_other_bytes_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    command_id = await listen(client, family)
    assert (await upload(client, family, command_id, OGG)).status_code == 200
    first = await command_of(client, family, command_id)
    clock.advance(timedelta(seconds=20))

    again = await upload(client, family, command_id, OGG)
    other = await upload(client, family, command_id, WAV, "audio/wav")

    assert again.status_code == 200, again.text
    assert again.json()["state"] == "done"
    assert await command_of(client, family, command_id) == first
    assert other.status_code == 409, other.text
    assert other.json()["error"] == "CommandFinished"
    kept = await stored(runtime, command_id)
    assert kept is not None
    assert (kept.data, kept.uploaded_at) == (OGG, clock.now() - timedelta(seconds=20))


async def test_the_recording_is_purged_after_the_retention_time(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, family: FamilyWorld
) -> None:
    command_id = await listen(client, family)
    assert (await upload(client, family, command_id, OGG)).status_code == 200
    clock.advance(timedelta(hours=24))
    guardian = await sign_in(client, runtime, family.guardian.phone)  # the token lives 15 min

    expired = await play(client, family, command_id, guardian)
    report = await purge_expired(runtime)
    purged = await play(client, family, command_id, guardian)

    assert expired.status_code == 410, expired.text
    assert report.command_audio == 1
    assert report.total >= 1
    assert await stored(runtime, command_id) is None
    assert purged.status_code == 410, purged.text
    assert purged.json()["error"] == "AudioGone"
    async with runtime.sessions() as session:  # the command still says there was a recording
        command = await session.get(DeviceCommand, uuid.UUID(command_id))
        assert command is not None
        assert command.result["audio"]["size"] == len(OGG)


async def test_nothing_is_played_once_monitoring_no_longer_applies(
    client: httpx.AsyncClient, runtime: Runtime, carrier: dict[str, str], family: FamilyWorld
) -> None:
    command_id = await listen(client, family)
    assert (await upload(client, family, command_id, OGG)).status_code == 200
    await register_line(client, carrier, family.line, family.guardian.phone, active=False)

    refused = await play(client, family, command_id, family.guardian)

    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "MonitoringInactive"


def test_the_upload_declares_its_body_and_its_limit(runtime: Runtime) -> None:
    operation = create_app(runtime).openapi()["paths"]["/v1/device/commands/{command_id}/audio"][
        "put"
    ]

    assert operation["x-max-body-bytes"] == runtime.settings.command_audio_max_bytes
    assert set(operation["requestBody"]["content"]) == {
        "audio/ogg",
        "audio/webm",
        "audio/mp4",
        "audio/aac",
        "audio/mpeg",
        "audio/wav",
    }
    assert {"413", "415", "409", "410", "404"} <= set(operation["responses"])
