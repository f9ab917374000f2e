"""What the child's requests and the guardian's tasks accept, without a database; and when a
pending request reads as expired."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from telemetry.usage.requests.models import ScreenTimeRequest
from telemetry.usage.requests.schemas import (
    AppInstallRequestCreate,
    ExtraTimeRequestCreate,
    RequestDecisionCreate,
    ScreenTimeRequestCreate,
)
from telemetry.usage.requests.service import status_of
from telemetry.usage.tasks.schemas import TaskCreate

ASK: TypeAdapter[ExtraTimeRequestCreate | AppInstallRequestCreate] = TypeAdapter(
    ScreenTimeRequestCreate
)
NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)


def test_a_request_is_told_apart_by_its_kind() -> None:
    extra = ASK.validate_python({"kind": "extra_time", "category": "games", "minutes": 5})
    assert isinstance(extra, ExtraTimeRequestCreate)
    install = ASK.validate_python(
        {"kind": "app_install", "app": "org.example.maps", "app_name": " Maps\n", "message": " "}
    )
    assert isinstance(install, AppInstallRequestCreate)
    assert (install.app_name, install.message) == ("Maps", None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "extra_time", "minutes": 5}, "give exactly one"),
        ({"kind": "extra_time", "minutes": 5, "app": "a b"}, "is not an app id"),
        ({"kind": "extra_time", "minutes": 5, "app": "x", "message": "a\x00b"}, "control"),
        ({"kind": "extra_time", "minutes": 5, "app": "x", "message": "m" * 501}, "500"),
        ({"kind": "app_install", "app": "x", "app_name": "\t"}, "control"),
        ({"kind": "app_install", "app": "x", "app_name": " "}, "not blank"),
    ],
)
def test_bad_requests_say_why(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ASK.validate_python(body)


def test_a_message_keeps_its_line_breaks() -> None:
    body = {"kind": "extra_time", "minutes": 5, "app": "x", "message": "one\ntwo "}
    assert ASK.validate_python(body).message == "one\ntwo"


def test_minutes_go_with_approving_only() -> None:
    assert RequestDecisionCreate(decision="approve", minutes=10).minutes == 10
    with pytest.raises(ValidationError, match="approve only"):
        RequestDecisionCreate(decision="decline", minutes=10)


def test_a_task_reward_is_for_an_app_a_category_or_the_total() -> None:
    total = TaskCreate(title=" Dishes ", reward_minutes=10)
    assert (total.title, total.app, total.category) == ("Dishes", None, None)
    with pytest.raises(ValidationError, match="not two"):
        TaskCreate.model_validate(
            {"title": "Dishes", "reward_minutes": 10, "app": "x", "category": "games"}
        )
    with pytest.raises(ValidationError, match="not blank"):
        TaskCreate(title="  ", reward_minutes=10)


def _request(status: str, expires_at: datetime | None) -> ScreenTimeRequest:
    return ScreenTimeRequest(
        id=uuid.uuid4(),
        child_id=uuid.uuid4(),
        device_id=uuid.uuid4(),
        kind="extra_time",
        status=status,
        day=date(2026, 11, 25),
        expires_at=expires_at,
        created_at=NOW,
        updated_at=NOW,
    )


def test_a_pending_request_expires_at_its_instant_and_an_answered_one_never() -> None:
    midnight = NOW + timedelta(hours=10)
    assert status_of(_request("pending", midnight), midnight - timedelta(microseconds=1)) == (
        "pending"
    )
    assert status_of(_request("pending", midnight), midnight) == "expired"
    assert status_of(_request("approved", midnight), midnight + timedelta(days=1)) == "approved"
    assert status_of(_request("declined", midnight), midnight) == "declined"
    assert status_of(_request("pending", None), NOW + timedelta(days=300)) == "pending"
