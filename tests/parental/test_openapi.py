"""The committed OpenAPI document is what the app serves."""

from __future__ import annotations

import json
from pathlib import Path

from parental.app import create_app

COMMITTED = Path(__file__).parents[2] / "openapi" / "openapi.json"


def test_committed_openapi_is_current() -> None:
    current = create_app().openapi()
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == current, "openapi/openapi.json is stale: run `make openapi`"


def test_operation_ids_are_unique_verb_noun_names() -> None:
    spec = create_app().openapi()
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    verbs = (
        "get_",
        "list_",
        "create_",
        "update_",
        "delete_",
        "revoke_",
        "remove_",
        "request_",
        "refresh_",
        "accept_",
        "decline_",
        "pair_",
        "register_",
        "deactivate_",
        "check_",
        "mark_",
    )
    assert [i for i in ids if not i.startswith(verbs)] == []


def test_every_route_has_a_summary_and_declares_its_errors() -> None:
    spec = create_app().openapi()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary"), (method, path)
            if path not in ("/healthz",):
                assert any(code.startswith(("4", "5")) for code in op["responses"]), (method, path)
