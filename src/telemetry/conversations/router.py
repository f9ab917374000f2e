"""The device agent's upload of messages it saw (``POST /v1/device/messages``). Who the caller
is, whether monitoring applies and which keys seal the text is the composition root's
business (``parental.conversations``); this router only needs an ``Uploader``."""

# No ``from __future__ import annotations``: FastAPI must see the dependency types of the
# routes defined inside ``create_device_router`` as objects, not as names it cannot resolve.

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.errors import AppError, error_responses
from telemetry.conversations import service
from telemetry.conversations.crypto import MessageCipher
from telemetry.conversations.schemas import MessageBatch, MessageBatchResult


class Uploader(Protocol):
    """The calling device of a monitored child whose guardians may see its messages."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def child_id(self) -> uuid.UUID: ...

    @property
    def device_id(self) -> uuid.UUID: ...

    @property
    def cipher(self) -> MessageCipher: ...

    @property
    def limits(self) -> service.Limits: ...

    @property
    def labeler(self) -> service.Labeler | None: ...

    def now(self) -> datetime: ...


def create_device_router(
    *, uploader: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(tags=["device agent"], responses=error_responses(*caller_errors))
    UploaderDep = Annotated[Uploader, Depends(uploader)]

    @router.post("/device/messages")
    async def create_device_messages(body: MessageBatch, device: UploaderDep) -> MessageBatchResult:
        """Upload up to 500 messages the agent saw in messenger apps, in any order, however
        late (within the retention). Each is accepted, a duplicate (the same app, conversation
        and message id were sent before) or rejected with a reason (a text over 4,000
        characters, nothing in it, too far in the future, too old); the rest are kept whatever
        happens to one. The text, the sender's name and the conversation's title are stored
        encrypted; attachments are named by kind, never sent."""
        return await service.ingest(
            device.session,
            device.cipher,
            child_id=device.child_id,
            device_id=device.device_id,
            items=body.messages,
            now=device.now(),
            limits=device.limits,
            labeler=device.labeler,
        )

    return router
