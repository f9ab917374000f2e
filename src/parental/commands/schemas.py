from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from parental.auth.schemas import Request
from parental.i18n import Locale
from parental.kit.wire import JsonDatetime
from parental.notifications.schemas import PushPlatform


class CommandKind(StrEnum):
    LOCATE_NOW = "locate_now"
    RING = "ring"
    MESSAGE = "message"
    LISTEN = "listen"
    SYNC_POLICY = "sync_policy"


class CommandState(StrEnum):
    PENDING = "pending"  # waiting for the device
    RECEIVED = "received"  # the device has it and is doing it
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # not finished in time


FINISHED = frozenset({CommandState.DONE, CommandState.FAILED, CommandState.EXPIRED})


class LocateNowCreate(Request):
    kind: Literal[CommandKind.LOCATE_NOW]


class RingCreate(Request):
    kind: Literal[CommandKind.RING]


class SyncPolicyCreate(Request):
    kind: Literal[CommandKind.SYNC_POLICY]


class MessageCreate(Request):
    kind: Literal[CommandKind.MESSAGE]
    text: str = Field(min_length=1, max_length=500, description="Shown on the child's screen.")


class ListenCreate(Request):
    kind: Literal[CommandKind.LISTEN]
    seconds: int | None = Field(
        default=None,
        ge=5,
        description="How long to record (default and maximum: the carrier's limit, 60 s).",
    )


CommandCreate = Annotated[
    LocateNowCreate | RingCreate | MessageCreate | ListenCreate | SyncPolicyCreate,
    Field(discriminator="kind"),
]


class CommandRead(BaseModel):
    """A command and how far the device got with it."""

    id: uuid.UUID
    child_id: uuid.UUID
    kind: CommandKind
    text: str | None
    seconds: int | None
    state: CommandState
    issued_by: uuid.UUID
    created_at: datetime
    expires_at: datetime
    pushes: int = Field(description="FCM data messages sent for it so far.")
    device_id: uuid.UUID | None = Field(description="The device that answered.")
    received_at: datetime | None
    finished_at: datetime | None
    failure_reason: str | None
    result: dict[str, Any] = Field(
        description="locate_now: fix_time; listen: audio (content_type, size, available_until)."
    )


class CommandPage(BaseModel):
    items: list[CommandRead]
    next_cursor: str | None


class DeviceCommandRead(BaseModel):
    """A command as the device agent gets it (the FCM data message carries the same)."""

    id: uuid.UUID
    kind: CommandKind
    text: str | None
    seconds: int | None
    state: CommandState
    created_at: datetime
    expires_at: datetime
    notify_child: Literal[True] = Field(
        default=True, description="Always true: the child is always shown the command."
    )


class DeviceCommandPage(BaseModel):
    items: list[DeviceCommandRead]


class AckState(StrEnum):
    RECEIVED = "received"
    DONE = "done"
    FAILED = "failed"


class CommandAck(Request):
    state: AckState
    reason: str | None = Field(
        default=None, max_length=200, description="Why it failed (required with failed)."
    )
    fix_time: JsonDatetime | None = Field(
        default=None,
        description="locate_now done: the time of the fresh fix the device uploaded.",
    )

    @model_validator(mode="after")
    def _reason_with_failure(self) -> CommandAck:
        if self.state is AckState.FAILED and not self.reason:
            raise ValueError("say why it failed in reason")
        return self


class DevicePushTokenSet(Request):
    token: str = Field(
        min_length=20,
        max_length=1024,
        pattern=r"^[A-Za-z0-9_:\-\.]+$",
        description="The device agent's FCM registration token.",
    )
    platform: PushPlatform | None = Field(
        default=None,
        description="The phone's system: on ios, ring, message and listen come as visible "
        "APNs alerts (docs/device-contract.md). Optional for agents that registered before "
        "it existed: the platform the device was paired with when not given.",
    )
    locale: Locale | None = Field(
        default=None,
        description="The language the agent shows (kk, ru, en): the texts of those alerts use "
        "it; the default language when not given.",
    )
