"""Staff accounts and the admin API."""

from __future__ import annotations

import httpx
import pytest

from parental.admin import service
from parental.kit.db import transaction
from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld

PASSWORD = "correct horse battery staple"


async def test_staff_sign_in_and_read_the_audit_log(
    client: httpx.AsyncClient, staff: dict[str, str], family: FamilyWorld
) -> None:
    me = await client.get("/admin/v1/me", headers=staff)
    assert me.json()["username"] == "curator"
    assert me.json()["role"] == "curator"
    log = await client.get("/admin/v1/audit-events?limit=100", headers=staff)
    actions = {e["action"] for e in log.json()["items"]}
    assert {"auth.sign_in", "family.created", "child.added", "device.paired"} <= actions


async def test_wrong_password_and_unknown_user_look_the_same(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    wrong = await client.post(
        "/admin/v1/auth/tokens", json={"username": "curator", "password": "nope"}
    )
    unknown = await client.post(
        "/admin/v1/auth/tokens", json={"username": "ghost", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_admin_routes_refuse_parent_and_device_tokens(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    for headers in ({}, family.guardian.headers, family.device_headers):
        for path in ("/admin/v1/me", "/admin/v1/audit-events"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.json()["error"] == "InvalidStaffToken"


async def test_staff_tokens_do_not_open_parent_routes(
    client: httpx.AsyncClient, staff: dict[str, str]
) -> None:
    assert (await client.get("/v1/me", headers=staff)).status_code == 401
    assert (await client.get("/v1/device", headers=staff)).status_code == 401


async def test_staff_passwords_are_stored_as_argon2(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        staff = await service.create_staff(
            session, username="admin", password=PASSWORD, role="admin", now=runtime.clock.now()
        )
    assert staff.password_hash.startswith("$argon2")
    with pytest.raises(ValueError, match="at least"):
        async with transaction(runtime.sessions) as session:
            await service.create_staff(
                session, username="short", password="short", role="admin", now=runtime.clock.now()
            )
