"""Families, guardians and invitations."""

from __future__ import annotations

from datetime import timedelta

import httpx

from parental.kit.clock import FrozenClock
from parental.runtime import Runtime
from tests.parental.factories import create_family, sign_in

OWNER, SECOND, STRANGER = "+77011230001", "+77011230002", "+77011230003"


async def test_a_family_is_created_with_its_owner(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await sign_in(client, runtime, OWNER)
    family_id = await create_family(client, owner, "Abaevs")
    family = await client.get(f"/v1/families/{family_id}", headers=owner.headers)
    assert family.json()["name"] == "Abaevs"
    assert [(g["phone"], g["role"]) for g in family.json()["guardians"]] == [(OWNER, "owner")]
    me = await client.get("/v1/me", headers=owner.headers)
    assert me.json()["family_id"] == family_id
    again = await client.post("/v1/families", headers=owner.headers, json={"name": "Two"})
    assert again.status_code == 409
    assert again.json()["error"] == "AlreadyInFamily"


async def test_invite_accept_and_the_second_guardian_sees_the_family(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await sign_in(client, runtime, OWNER)
    family_id = await create_family(client, owner)
    invited = await client.post(
        f"/v1/families/{family_id}/invitations", headers=owner.headers, json={"phone": SECOND}
    )
    assert invited.status_code == 201, invited.text
    assert invited.json()["status"] == "pending"
    sms = runtime.sms.last_to(SECOND)  # type: ignore[attr-defined]
    assert sms is not None
    assert OWNER in sms.text

    second = await sign_in(client, runtime, SECOND)
    mine = await client.get("/v1/invitations", headers=second.headers)
    assert [i["id"] for i in mine.json()["items"]] == [invited.json()["id"]]
    accepted = await client.post(
        f"/v1/invitations/{invited.json()['id']}/accept", headers=second.headers
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    family = await client.get(f"/v1/families/{family_id}", headers=second.headers)
    assert {g["phone"] for g in family.json()["guardians"]} == {OWNER, SECOND}

    twice = await client.post(
        f"/v1/invitations/{invited.json()['id']}/accept", headers=second.headers
    )
    assert twice.status_code == 409


async def test_an_invitation_reaches_only_its_phone(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await sign_in(client, runtime, OWNER)
    family_id = await create_family(client, owner)
    invited = await client.post(
        f"/v1/families/{family_id}/invitations", headers=owner.headers, json={"phone": SECOND}
    )
    stranger = await sign_in(client, runtime, STRANGER)
    stolen = await client.post(
        f"/v1/invitations/{invited.json()['id']}/accept", headers=stranger.headers
    )
    assert stolen.status_code == 404
    family = await client.get(f"/v1/families/{family_id}", headers=owner.headers)
    assert len(family.json()["guardians"]) == 1


async def test_expired_declined_and_revoked_invitations_cannot_be_accepted(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    owner = await sign_in(client, runtime, OWNER)
    family_id = await create_family(client, owner)
    second = await sign_in(client, runtime, SECOND)
    url = f"/v1/families/{family_id}/invitations"

    declined = (await client.post(url, headers=owner.headers, json={"phone": SECOND})).json()
    answer = await client.post(f"/v1/invitations/{declined['id']}/decline", headers=second.headers)
    assert answer.json()["status"] == "declined"

    revoked = (await client.post(url, headers=owner.headers, json={"phone": SECOND})).json()
    gone = await client.delete(f"{url}/{revoked['id']}", headers=owner.headers)
    assert gone.status_code == 204
    late = await client.post(f"/v1/invitations/{revoked['id']}/accept", headers=second.headers)
    assert late.status_code == 409

    expiring = (await client.post(url, headers=owner.headers, json={"phone": SECOND})).json()
    clock.advance(timedelta(days=runtime.settings.invitation_ttl_days, seconds=1))
    owner = await sign_in(client, runtime, OWNER)
    second = await sign_in(client, runtime, SECOND)
    late = await client.post(f"/v1/invitations/{expiring['id']}/accept", headers=second.headers)
    assert late.status_code == 409
    listed = await client.get(url, headers=owner.headers)
    assert sorted(i["status"] for i in listed.json()["items"]) == [
        "declined",
        "expired",
        "revoked",
    ]


async def test_one_pending_invitation_per_phone_and_none_for_a_member(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await sign_in(client, runtime, OWNER)
    family_id = await create_family(client, owner)
    url = f"/v1/families/{family_id}/invitations"
    assert (
        await client.post(url, headers=owner.headers, json={"phone": SECOND})
    ).status_code == 201
    dup = await client.post(url, headers=owner.headers, json={"phone": SECOND})
    assert dup.status_code == 409
    assert dup.json()["error"] == "InvitationPending"
    me = await client.post(url, headers=owner.headers, json={"phone": OWNER})
    assert me.status_code == 409


async def test_owner_removes_a_guardian_and_a_guardian_may_leave(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await sign_in(client, runtime, OWNER)
    family_id = await create_family(client, owner)
    guardians = []
    for phone in (SECOND, STRANGER):
        invited = await client.post(
            f"/v1/families/{family_id}/invitations", headers=owner.headers, json={"phone": phone}
        )
        guardian = await sign_in(client, runtime, phone)
        await client.post(
            f"/v1/invitations/{invited.json()['id']}/accept", headers=guardian.headers
        )
        guardians.append(guardian)
    second, third = guardians

    # A guardian cannot remove another guardian, nor the owner.
    refused = await client.delete(
        f"/v1/families/{family_id}/guardians/{third.account_id}", headers=second.headers
    )
    assert refused.status_code == 403
    owner_stays = await client.delete(
        f"/v1/families/{family_id}/guardians/{owner.account_id}", headers=second.headers
    )
    assert owner_stays.status_code == 409

    leave = await client.delete(
        f"/v1/families/{family_id}/guardians/{second.account_id}", headers=second.headers
    )
    assert leave.status_code == 204
    removed = await client.delete(
        f"/v1/families/{family_id}/guardians/{third.account_id}", headers=owner.headers
    )
    assert removed.status_code == 204
    family = await client.get(f"/v1/families/{family_id}", headers=owner.headers)
    assert [g["phone"] for g in family.json()["guardians"]] == [OWNER]
    # A former guardian no longer reaches the family.
    assert (
        await client.get(f"/v1/families/{family_id}", headers=second.headers)
    ).status_code == 404


async def test_rename_family(client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await sign_in(client, runtime, OWNER)
    family_id = await create_family(client, owner)
    renamed = await client.patch(
        f"/v1/families/{family_id}", headers=owner.headers, json={"name": "Home"}
    )
    assert renamed.json()["name"] == "Home"
    empty = await client.patch(
        f"/v1/families/{family_id}", headers=owner.headers, json={"name": ""}
    )
    assert empty.status_code == 422
