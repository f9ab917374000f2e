"""A service account's JSON key (``PARENTAL_FCM_CREDENTIALS_FILE``), the production path:
the SDK signs a JWT, trades it for an access token at the key's ``token_uri`` and sends with
it. Both ends are the local fake; nothing reaches Google."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from parental.notifications.fcm import PushSender, build_message
from parental.notifications.outbox import PushMessage
from tests.fakes.fcm import GRANTED, TOKEN_PATH, FakeFcm
from tests.parental.notifications.conftest import PROJECT, fcm_token, push_settings


def service_account_key(path: Path, token_uri: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "test-key",
        "private_key": pem,
        "client_email": f"push@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info))
    return path


async def test_a_service_account_key_gets_its_token_from_its_token_uri(
    fcm: FakeFcm, tmp_path: Path
) -> None:
    key = service_account_key(tmp_path / "sa.json", fcm.url + TOKEN_PATH)
    settings = push_settings(fcm).model_copy(update={"fcm_credentials_file": key})
    sender = PushSender(settings)
    now = datetime.now(UTC)
    phone = fcm_token("phone")
    try:
        [response] = await sender.send(
            [build_message(PushMessage("t", "b"), phone, due_at=now, now=now)]
        )
    finally:
        await sender.close()

    assert response.exception is None
    assert len(fcm.token_requests) == 1
    assert (
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
        in (fcm.token_requests[0])
    )
    assert fcm.to(phone)[0].headers["authorization"] == f"Bearer {GRANTED}"
