"""The device agent's upload of messages it saw (``POST /v1/device/messages``) and what the
child's guardians read of them (alerts with excerpts; whole conversations for the youngest,
and their messages of one label across conversations).
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

from parental.kit.errors import AppError, PayloadTooLarge, error_responses
from parental.kit.events import Event
from parental.kit.http import larger_body
from parental.kit.paging import InvalidCursor
from telemetry.conversations import alerts, notices, reading, search, service
from telemetry.conversations.classify import Label
from telemetry.conversations.crypto import MessageCipher
from telemetry.conversations.errors import (
    ConversationNotFound,
    MessageAlertNotFound,
    TranscriptsNotForThisAge,
)
from telemetry.conversations.schemas import (
    MAX_BATCH_BYTES,
    ConversationPage,
    LabelledMessagePage,
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

    @property
    def notice_policy(self) -> notices.NoticePolicy:
        """How many alert notices a child's guardians get at once, and how the rest gather."""
        ...

    def now(self) -> datetime: ...

    async def serialise(self) -> None:
        """Hold the child's lock until the upload commits: alerts are raised and counted
        one upload at a time."""
        ...

    async def announce(self, events: Sequence[Event]) -> None:
        """Commit the upload with the guardians' notifications of ``events`` (those of a
        notification kind), then publish them all (none: nothing to do)."""
        ...


def create_device_router(
    *, uploader: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(tags=["device agent"], responses=error_responses(*caller_errors))
    UploaderDep = Annotated[Uploader, Depends(uploader)]

    @router.post(
        "/device/messages",
        responses=error_responses(PayloadTooLarge),
        openapi_extra=larger_body(MAX_BATCH_BYTES),
    )
    async def create_device_messages(body: MessageBatch, device: UploaderDep) -> MessageBatchResult:
        """Upload up to 500 messages the agent saw in messenger apps, in any order, however
        late (within the retention). Each is accepted, a duplicate (the same app, conversation
        and message id were sent before) or rejected with a reason (a text over 4,000
        characters, nothing in it, too far in the future, too old); the rest are kept whatever
        happens to one. A risky message (self-harm, drugs, bullying, grooming, violence,
        sexual) alerts the guardians, once per conversation and label in a while. The text,
        the sender's name and the conversation's title are stored encrypted; attachments are
        named by kind, never sent. The body may be up to 11,000,000 bytes, room for 500
        messages at their longest with every character four bytes of UTF-8 (send characters
        as UTF-8: a `\\u` escape takes six bytes); a larger one is refused whole (413
        `PayloadTooLarge`)."""
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
        if flagged:
            await device.serialise()
        now = device.now()
        raised = await alerts.raise_alerts(
            device.session,
            device.cipher,
            child_id=device.child_id,
            flagged=flagged,
            now=now,
            window=device.alert_window,
        )
        events = await notices.plan(
            device.session,
            child_id=device.child_id,
            raised=raised,
            now=now,
            policy=device.notice_policy,
        )
        # Every risky message is an event; only the alerts' become notifications.
        await device.announce([*events, *alerts.stored_events(device.child_id, flagged, now)])
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
        """Alerts on risky messages, newest first: label, app, time, how many messages each
        groups and the words around what triggered it (for the ages whose guardians see
        excerpts). The child's device shows that you read the excerpts, or looked."""
        mode = guardian.mode
        items, next_cursor = await reading.alerts_page(
            guardian.session,
            guardian.child_id,
            limit=limit,
            cursor=cursor,
            label=label.value if label else None,
            cipher=guardian.cipher if mode is not MessagesMode.OFF else None,
        )
        # One audit row per read, as for one alert's excerpt: the excerpts it showed.
        shown = [str(item.id) for item in items if item.excerpt is not None]
        if shown:
            details = {"label": label, "excerpts": len(shown), "alert_ids": shown}
            await guardian.viewed("messages.excerpt_viewed", details)
        else:
            await guardian.viewed("messages.alerts_viewed", {"label": label})
        return MessageAlertPage(mode=mode, items=items, next_cursor=next_cursor)

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
    async def list_child_conversations(
        guardian: ViewerDep, label: LabelFilter = None
    ) -> ConversationPage:
        """The child's conversations (younger children only: the carrier's age band), or
        those with a message of one label. The child's device shows that you looked."""
        if guardian.mode is not MessagesMode.TRANSCRIPTS:
            raise TranscriptsNotForThisAge()
        await guardian.viewed("messages.conversations_viewed", {"label": label})
        items = await reading.conversations(
            guardian.session,
            guardian.cipher,
            guardian.child_id,
            label=label.value if label else None,
        )
        return ConversationPage(items=items)

    @router.get(
        "/children/{child_id}/messages",
        responses=error_responses(TranscriptsNotForThisAge, InvalidCursor),
    )
    async def list_child_labelled_messages(
        guardian: ViewerDep,
        label: Annotated[Label, Query(description="The classifier's label (never the text).")],
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> LabelledMessagePage:
        """Messages of one label across all the child's conversations, newest first (younger
        children only). The labels are searched, never the text. The child's device shows
        that you read them."""
        if guardian.mode is not MessagesMode.TRANSCRIPTS:
            raise TranscriptsNotForThisAge()
        items, next_cursor = await search.labelled_messages(
            guardian.session,
            guardian.cipher,
            guardian.child_id,
            label.value,
            limit=limit,
            cursor=cursor,
        )
        details = {
            "label": label,
            "conversations": sorted({item.conversation for item in items}),
            "apps": sorted({item.app for item in items}),
        }
        await guardian.viewed("messages.label_searched", details)
        return LabelledMessagePage(label=label.value, items=items, next_cursor=next_cursor)

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
