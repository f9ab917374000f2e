"""Opaque keyset cursors, the page-size cap, and paging through a child's audit log."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from parental.kit.clock import FrozenClock
from parental.kit.errors import BadRequest
from parental.kit.paging import MAX_PAGE_SIZE, InvalidCursor, decode_cursor, encode_cursor
from tests.parental.factories import FamilyWorld


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 9, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 11, 25, 14, 0, tzinfo=timezone(timedelta(hours=5))),
    ],
)
def test_cursor_round_trip(at: datetime) -> None:
    row_id = uuid.uuid4()

    cursor = encode_cursor(at, row_id)

    assert decode_cursor(cursor) == (at, row_id)
    assert "=" not in cursor
    assert str(row_id) not in cursor  # opaque, not the id in plain text


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!!",
        "x",
        _b64(b"not a date|" + str(uuid.uuid4()).encode()),
        _b64(b"2026-11-25T09:00:00+00:00|not-a-uuid"),
        _b64(b"2026-11-25T09:00:00+00:00"),
        _b64(b"2026-11-25T09:00:00|" + str(uuid.uuid4()).encode()),  # naive time
        _b64(b"\xff\xfe\xfd|\x00"),  # not UTF-8
    ],
)
def test_garbage_cursor_raises_invalid_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as raised:
        decode_cursor(cursor)

    assert isinstance(raised.value, BadRequest)
    assert raised.value.status_code == 400
    assert raised.value.body()["error"] == "InvalidCursor"


async def test_api_refuses_a_garbage_cursor(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    response = await client.get(
        f"/v1/children/{family.child_id}/audit-events",
        params={"cursor": "garbage"},
        headers=family.guardian.headers,
    )

    assert response.status_code == 400
    assert response.json() == {"error": "InvalidCursor", "detail": InvalidCursor.message}


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1, 10_000])
async def test_api_caps_the_page_size(
    client: httpx.AsyncClient, family: FamilyWorld, limit: int
) -> None:
    url = f"/v1/children/{family.child_id}/audit-events"
    headers = family.guardian.headers

    response = await client.get(url, params={"limit": limit}, headers=headers)

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "ValidationError"
    assert [issue["loc"] for issue in body["issues"]] == [["query", "limit"]]
    largest = await client.get(url, params={"limit": MAX_PAGE_SIZE}, headers=headers)
    assert largest.status_code == 200


async def test_paging_with_limit_one_returns_every_event_once_newest_first(
    client: httpx.AsyncClient,
    family: FamilyWorld,
    other_family: FamilyWorld,
    clock: FrozenClock,
) -> None:
    # The family fixture wrote three events at the same instant (added, code, paired); more
    # follow at distinct instants, so the cursor must order by time and break ties by id.
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        created = await client.post(
            f"/v1/children/{family.child_id}/pairing-codes", headers=family.guardian.headers
        )
        assert created.status_code == 201, created.text
    url = f"/v1/children/{family.child_id}/audit-events"
    headers = family.guardian.headers
    everything = await client.get(url, params={"limit": MAX_PAGE_SIZE}, headers=headers)
    assert everything.status_code == 200
    assert everything.json()["next_cursor"] is None
    expected = everything.json()["items"]
    assert len(expected) == 6
    assert {e["child_id"] for e in expected} == {family.child_id}
    stamps = [e["occurred_at"] for e in expected]
    assert stamps == sorted(stamps, reverse=True)
    assert len(set(stamps)) == 4

    seen: list[dict[str, object]] = []
    cursor: str | None = None
    for _ in range(len(expected) + 1):
        params: dict[str, str | int] = {"limit": 1}
        if cursor is not None:
            params["cursor"] = cursor
        page = await client.get(url, params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) == 1
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert cursor is None
    assert seen == expected
    assert len({e["id"] for e in seen}) == len(expected)


async def test_last_full_page_has_no_next_cursor(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    url = f"/v1/children/{family.child_id}/audit-events"
    headers = family.guardian.headers

    first = await client.get(url, params={"limit": 2}, headers=headers)
    assert first.json()["next_cursor"] is not None
    second = await client.get(
        url, params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=headers
    )

    # Three events in all: the second page holds the last one and says there is no more.
    assert [len(first.json()["items"]), len(second.json()["items"])] == [2, 1]
    assert second.json()["next_cursor"] is None
    exact = await client.get(url, params={"limit": 3}, headers=headers)
    assert exact.json()["next_cursor"] is None


async def test_a_cursor_does_not_open_another_familys_child(
    client: httpx.AsyncClient, family: FamilyWorld, other_family: FamilyWorld
) -> None:
    mine = await client.get(
        f"/v1/children/{family.child_id}/audit-events",
        params={"limit": 1},
        headers=family.guardian.headers,
    )
    cursor = mine.json()["next_cursor"]

    theirs = await client.get(
        f"/v1/children/{other_family.child_id}/audit-events",
        params={"limit": 1, "cursor": cursor},
        headers=family.guardian.headers,
    )

    assert theirs.status_code == 404
