"""The device agent's upload of messages it saw (``POST /v1/device/messages``) and what the
child's guardians read of them (alerts with excerpts; whole conversations for the youngest).
Who the caller is, whether monitoring applies, the child's age band, the audit rows and the
keys that seal the text are the composition root's business (``parental.conversations``);
these routers only need an ``Uploader`` or a ``Viewer``."""

# No ``from __future__ import annotations``: FastAPI must see the dependency types of the
# routes defined inside ``create_device_router`` as objects, not as names it cannot resolve.

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.errors import AppError, error_responses
from parental.kit.events import Event
from parental.kit.paging import InvalidCursor
from telemetry.conversations import alerts, reading, service
from telemetry.conversations.classify import Label
from telemetry.conversations.crypto import MessageCipher
from telemetry.conversations.errors import (
    ConversationNotFound,
    MessageAlertNotFound,
    TranscriptsNotForThisAge,
)
from telemetry.conversations.schemas import (
    ConversationPage,
    MessageAlertDetail,
    MessageAlertPage,
    MessageBatch,
    MessageBatchResult,
    MessagesMode,
    TranscriptRead,
)


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
    def classifier(self) -> service.Classifies | None:
        """The risk classifier in force (None: messages are stored unlabelled)."""
        ...

    @property
    def alert_window(self) -> timedelta:
        """Risky messages of one label in one conversation within this are one alert."""
        ...

    def now(self) -> datetime: ...

    async def announce(self, events: Sequence[Event]) -> None:
        """Commit the upload and publish ``events`` to the guardians (none: nothing to do)."""
        ...


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
        happens to one. A risky message (self-harm, drugs, bullying, grooming, violence,
        sexual) alerts the guardians, once per conversation and label in a while. The text,
        the sender's name and the conversation's title are stored encrypted; attachments are
        named by kind, never sent."""
        result, flagged = await service.ingest(
            device.session,
            device.cipher,
            child_id=device.child_id,
            device_id=device.device_id,
            items=body.messages,
            now=device.now(),
            limits=device.limits,
            classifier=device.classifier,
        )
        events = await alerts.raise_alerts(
            device.session,
            device.cipher,
            child_id=device.child_id,
            flagged=flagged,
            now=device.now(),
            window=device.alert_window,
        )
        await device.announce(events)
        return result

    return router


class Viewer(Protocol):
    """A guardian of one child, while monitoring applies."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def child_id(self) -> uuid.UUID: ...

    @property
    def cipher(self) -> MessageCipher: ...

    @property
    def mode(self) -> MessagesMode:
        """What the child's age band lets guardians see."""
        ...

    async def viewed(self, action: str, details: dict[str, Any]) -> None:
        """Refuse unless monitoring applies to the child now; record the read in the audit
        log the child sees, in the request's transaction."""
        ...


def create_guardian_router(
    *, viewer: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(tags=["messages"], responses=error_responses(*caller_errors))
    ViewerDep = Annotated[Viewer, Depends(viewer)]
    Limit = Annotated[int, Query(ge=1, le=100)]
    Cursor = Annotated[str | None, Query(max_length=200)]
    LabelFilter = Annotated[
        Label | None, Query(description="Only this label (the classifier's, never the text).")
    ]

    @router.get("/children/{child_id}/message-alerts", responses=error_responses(InvalidCursor))
    async def list_child_message_alerts(
        guardian: ViewerDep, limit: Limit = 20, cursor: Cursor = None, label: LabelFilter = None
    ) -> MessageAlertPage:
        """Alerts on risky messages, newest first: label, app, time and how many messages
        each groups; not what was written (open one for its excerpt). The child's device
        shows that you looked."""
        await guardian.viewed("messages.alerts_viewed", {"label": label})
        items, next_cursor = await reading.alerts_page(
            guardian.session,
            guardian.child_id,
            limit=limit,
            cursor=cursor,
            label=label.value if label else None,
        )
        return MessageAlertPage(mode=guardian.mode, items=items, next_cursor=next_cursor)

    @router.get(
        "/children/{child_id}/message-alerts/{alert_id}",
        responses=error_responses(MessageAlertNotFound),
    )
    async def get_child_message_alert(
        alert_id: uuid.UUID, guardian: ViewerDep
    ) -> MessageAlertDetail:
        """One alert with the words around what triggered it. The child's device shows that
        you read the excerpt."""
        detail = await reading.alert_detail(
            guardian.session, guardian.cipher, guardian.child_id, alert_id
        )
        await guardian.viewed(
            "messages.excerpt_viewed", {"alert_id": str(alert_id), "app": detail.app}
        )
        return detail

    @router.get(
        "/children/{child_id}/conversations",
        responses=error_responses(TranscriptsNotForThisAge),
    )
    async def list_child_conversations(guardian: ViewerDep) -> ConversationPage:
        """The child's conversations (younger children only: the carrier's age band). The
        child's device shows that you looked."""
        if guardian.mode is not MessagesMode.TRANSCRIPTS:
            raise TranscriptsNotForThisAge()
        await guardian.viewed("messages.conversations_viewed", {})
        items = await reading.conversations(guardian.session, guardian.cipher, guardian.child_id)
        return ConversationPage(items=items)

    @router.get(
        "/children/{child_id}/conversations/{conversation}/messages",
        responses=error_responses(TranscriptsNotForThisAge, ConversationNotFound, InvalidCursor),
    )
    async def list_child_conversation_messages(
        conversation: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
        guardian: ViewerDep,
        limit: Limit = 50,
        cursor: Cursor = None,
        label: LabelFilter = None,
    ) -> TranscriptRead:
        """A whole conversation, newest first (younger children only). The child's device
        shows that you read it."""
        if guardian.mode is not MessagesMode.TRANSCRIPTS:
            raise TranscriptsNotForThisAge()
        items, next_cursor = await reading.transcript(
            guardian.session,
            guardian.cipher,
            guardian.child_id,
            conversation,
            limit=limit,
            cursor=cursor,
            label=label.value if label else None,
        )
        details = {
            "conversation": conversation,
            "app": items[0].app if items else None,
            "label": label,
        }
        await guardian.viewed("messages.transcript_viewed", details)
        return TranscriptRead(conversation=conversation, items=items, next_cursor=next_cursor)

    return router
