"""``/conversation-lexicon/...`` for curators (mounted under ``/admin/v1``): drafts, publishing,
rollback, comparison, and which rule fires on a text. The package cannot know who may curate
or how to write the audit log: the composition root (``parental.lexicons``) passes a dependency
that authenticates the caller and gives a ``Curator``; every change is recorded through it, in
the same transaction as the change. Explaining a text changes nothing and records nothing: the
text is neither stored nor logged."""

# No `from __future__ import annotations`: the routes below are built inside create_router and
# their annotations name its local dependencies, which FastAPI must see as objects.

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Path, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from parental.kit.errors import AppError, error_responses
from parental.kit.http import larger_body
from parental.kit.paging import DEFAULT_PAGE_SIZE, LimitQuery
from telemetry.conversations.lexicons import service
from telemetry.conversations.lexicons.cache import lexicon_cache
from telemetry.conversations.lexicons.errors import (
    InvalidLexicon,
    InvalidLexiconBody,
    LexiconAlreadyPublished,
    LexiconDraftSuperseded,
    LexiconNotPublished,
    LexiconUnchanged,
    LexiconVersionNotFound,
)
from telemetry.conversations.lexicons.models import ConversationLexicon
from telemetry.conversations.lexicons.schemas import (
    LexiconDiffRead,
    LexiconExplain,
    LexiconExplainRead,
    LexiconInForceRead,
    LexiconVersionCreate,
    LexiconVersionList,
    LexiconVersionRead,
)

MAX_LEXICON_BYTES = 4 * 1024 * 1024  # the validator's limits allow lexicons past 1 MiB
# Version numbers are an INTEGER column: a larger one is refused here (422), not sent to the
# database, where it overflowed into a 500.
MAX_VERSION = 2**31 - 1
VersionNumber = Annotated[int, Path(ge=0, le=MAX_VERSION)]

_INVALID: dict[int | str, dict[str, Any]] = {
    400: {"model": InvalidLexiconBody, "description": InvalidLexicon.__name__}
}


class Curator(Protocol):
    """A signed-in curator or admin, with the request's session."""

    @property
    def session(self) -> AsyncSession: ...

    @property
    def actor(self) -> str:
        """Who is written into rows (``created_by``, ``published_by``): ``staff:<id>``."""
        ...

    def now(self) -> datetime: ...

    async def record(
        self, action: str, subject_type: str, subject_id: object, details: dict[str, Any]
    ) -> None:
        """Append an audit event for a change, in the request's transaction."""
        ...


def _details(row: ConversationLexicon, **extra: Any) -> dict[str, Any]:
    return {"version": row.version, "digest": row.digest, "counts": row.counts, **extra}


def create_router(
    *, curator: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(
        prefix="/conversation-lexicon",
        tags=["conversation lexicon"],
        responses=error_responses(*caller_errors),
    )
    CuratorDep = Annotated[Curator, Depends(curator)]

    async def put_in_force(
        staff: Curator, action: str, row: ConversationLexicon, **extra: Any
    ) -> None:
        await staff.record(action, "conversation_lexicon", row.number, _details(row, **extra))
        await staff.session.commit()
        lexicon_cache.expire()  # in force in this process now, in the others within a second

    @router.get("/versions")
    async def list_conversation_lexicon_versions(
        staff: CuratorDep,
        limit: LimitQuery = DEFAULT_PAGE_SIZE,
        before: Annotated[
            int | None, Query(ge=1, le=MAX_VERSION, description="Versions older than this number.")
        ] = None,
    ) -> LexiconVersionList:
        """Lexicon versions, drafts included, newest first, and the number in force."""
        return await service.list_versions(staff.session, limit=limit, before=before)

    @router.post(
        "/versions",
        status_code=status.HTTP_201_CREATED,
        responses=_INVALID,
        openapi_extra=larger_body(MAX_LEXICON_BYTES),
    )
    async def create_conversation_lexicon_version(
        body: LexiconVersionCreate, staff: CuratorDep
    ) -> LexiconVersionRead:
        """Store a whole lexicon as a new draft, after validating it (400 with every problem
        and its JSON path otherwise; nothing is stored)."""
        row = await service.create_draft(
            staff.session, lexicon=body.lexicon, note=body.note, actor=staff.actor, now=staff.now()
        )
        await staff.record(
            "conversation_lexicon.draft_created", "conversation_lexicon", row.number, _details(row)
        )
        return service.read(row, await service.in_force_number(staff.session))

    @router.get("/in-force")
    async def get_conversation_lexicon_in_force(staff: CuratorDep) -> LexiconInForceRead:
        """The lexicon in force, whole (number 0: the packaged default, none was published)."""
        return await service.get_in_force(staff.session)

    @router.get("/versions/{number}", responses=error_responses(LexiconVersionNotFound))
    async def get_conversation_lexicon_version(
        number: VersionNumber, staff: CuratorDep
    ) -> LexiconVersionRead:
        """One version with its lexicon: who made it, when, whether it is in force."""
        row = await service.get(staff.session, number)
        return service.read(row, await service.in_force_number(staff.session))

    @router.post(
        "/versions/{number}/publish",
        responses=error_responses(
            LexiconVersionNotFound,
            LexiconAlreadyPublished,
            LexiconDraftSuperseded,
            LexiconUnchanged,
        ),
    )
    async def create_conversation_lexicon_publication(
        number: VersionNumber, staff: CuratorDep
    ) -> LexiconVersionRead:
        """Publish a draft: it is in force at once here, within a second in every process."""
        row = await service.publish(staff.session, number, actor=staff.actor, now=staff.now())
        await put_in_force(staff, "conversation_lexicon.published", row)
        return service.read(row, row.number)

    @router.post(
        "/versions/{number}/rollback",
        status_code=status.HTTP_201_CREATED,
        responses=error_responses(LexiconVersionNotFound, LexiconNotPublished, LexiconUnchanged),
    )
    async def create_conversation_lexicon_rollback(
        number: VersionNumber, staff: CuratorDep
    ) -> LexiconVersionRead:
        """Publish a new version with the content of published version ``number`` (0: the
        packaged default), and put it in force."""
        row = await service.rollback(staff.session, number, actor=staff.actor, now=staff.now())
        await put_in_force(staff, "conversation_lexicon.rolled_back", row, to=number)
        return service.read(row, row.number)

    @router.get("/versions/{number}/diff", responses=error_responses(LexiconVersionNotFound))
    async def get_conversation_lexicon_diff(
        number: VersionNumber,
        staff: CuratorDep,
        base: Annotated[
            int | None,
            Query(
                ge=0,
                le=MAX_VERSION,
                description="Compare with this version (0: the packaged default); "
                "default: the previous number.",
            ),
        ] = None,
    ) -> LexiconDiffRead:
        """Rules and negatives added, removed and changed (by id), ending sets, version string."""
        return await service.diff(staff.session, number - 1 if base is None else base, number)

    @router.post("/explain", responses=error_responses(LexiconVersionNotFound))
    async def check_conversation_lexicon_text(
        body: LexiconExplain, staff: CuratorDep
    ) -> LexiconExplainRead:
        """Which rules of the version in force (or of ``version``, a draft too) fire on a
        text, with the span each matched. The text is neither stored nor logged."""
        return await service.explain(staff.session, body.text, number=body.version)

    return router
