"""What the Schemathesis run found, pinned down in process: each answer as the OpenAPI
document declares it."""

from __future__ import annotations

from typing import Any

import httpx

from parental.runtime import Runtime
from tests.parental.factories import FamilyWorld, staff_headers


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_a_405_allows_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.request("OPTIONS", "/v1/me")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, PATCH"
    assert response.json()["error"] == "MethodNotAllowed"
    # A path without templates is not also the templated path beside it (/admin/v1/apps/{app}).
    imported = await client.request("OPTIONS", "/admin/v1/apps/import")
    assert imported.headers["allow"] == "POST"


async def test_a_body_that_cannot_be_decoded_is_a_declared_400(
    client: httpx.AsyncClient, family: FamilyWorld
) -> None:
    response = await client.put(
        "/v1/push-tokens",
        content=b'{"token": "\xc3("}',  # not UTF-8
        headers={**family.guardian.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "BadRequest"
    declared = (await openapi(client))["paths"]["/v1/push-tokens"]["put"]["responses"]["400"]
    assert declared["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }


async def test_a_422_is_declared_with_the_body_it_has(client: httpx.AsyncClient) -> None:
    document = await openapi(client)
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["ValidationErrorBody"]["required"]) == {"error", "detail", "issues"}
    declared = document["paths"]["/v1/families"]["post"]["responses"]["422"]
    assert declared["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationErrorBody"
    }
    response = await client.post("/v1/auth/sign-in-codes", json={})
    assert response.status_code == 422
    assert set(response.json()) == {"error", "detail", "issues"}


async def test_no_parameter_is_declared_nullable(client: httpx.AsyncClient) -> None:
    for operations in (await openapi(client))["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                assert {"type": "null"} not in parameter["schema"].get("anyOf", ())


async def test_json_values_are_not_coerced(client: httpx.AsyncClient, family: FamilyWorld) -> None:
    device = family.device_headers
    heartbeat = {"battery_pct": 50, "charging": 0, "app_version": "1.0"}
    refused = await client.post("/v1/device/heartbeat", headers=device, json=heartbeat)
    assert refused.status_code == 422, refused.text
    heartbeat["charging"] = False
    accepted = await client.post("/v1/device/heartbeat", headers=device, json=heartbeat)
    assert accepted.status_code == 200, accepted.text
    sos = {"kind": "sos", "pressed_at": 1_700_000_000}
    assert (await client.post("/v1/device/alarms", headers=device, json=sos)).status_code == 422
    queries = f"/v1/children/{family.child_id}/filter-activity/queries"
    timestamp = await client.get(queries, params={"until": "0.5"}, headers=family.guardian.headers)
    assert timestamp.status_code == 422, timestamp.text


async def test_a_version_number_past_the_column_is_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff_headers(client, runtime, username="admin", role="admin")
    huge = 2**31
    for path in (
        f"/admin/v1/filter/versions/{huge}/rollback",
        f"/admin/v1/conversation-lexicon/versions/{huge}/rollback",
    ):
        response = await client.post(path, headers=admin)
        assert response.status_code == 422, (path, response.text)
    in_range = await client.get("/admin/v1/filter/versions/2147483647", headers=admin)
    assert in_range.status_code == 404, in_range.text
