"""Lexicon versions: curators' drafts, publishing, rollback, comparison, explanation, and the
classifier in force.

A version is created as a draft from a whole lexicon (validated first: a bad one is refused
with every problem and stores nothing) and never edited. Publishing puts a draft in force; the
version in force is the highest published number, so a draft older than it cannot be
published (it would silently drop what the newer one changed). A rollback, as for blocklists,
publishes a new version with an earlier one's content. Number 0 is the packaged default, in
force until the first publish. Services never commit; the router commits, then expires the
process's cached pointer to the version in force.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from telemetry.conversations.classify import (
    Classifier,
    LexiconError,
    default_lexicon,
    hit_as_dict,
    labels_of,
    validate_lexicon,
)
from telemetry.conversations.lexicons import repository
from telemetry.conversations.lexicons.cache import LexiconCache, lexicon_cache
from telemetry.conversations.lexicons.diff import diff_lexicons
from telemetry.conversations.lexicons.errors import (
    InvalidLexicon,
    LexiconAlreadyPublished,
    LexiconDraftSuperseded,
    LexiconNotPublished,
    LexiconUnchanged,
    LexiconVersionNotFound,
)
from telemetry.conversations.lexicons.models import ConversationLexicon
from telemetry.conversations.lexicons.schemas import (
    ExplainHit,
    LexiconDiffRead,
    LexiconExplainRead,
    LexiconInForceRead,
    LexiconVersionList,
    LexiconVersionRead,
    LexiconVersionSummary,
    State,
)


def digest_of(lexicon: object) -> str:
    """SHA-256 of the lexicon's canonical JSON: equal content, equal digest."""
    canonical = json.dumps(lexicon, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _parsed(lexicon: object) -> tuple[str, dict[str, int]]:
    """The version string and counts of a lexicon; ``InvalidLexicon`` if it is not one."""
    try:
        parsed = validate_lexicon(lexicon)
    except LexiconError as exc:
        raise InvalidLexicon(exc.problems) from None
    return parsed.version, {"rules": len(parsed.rules), "negatives": len(parsed.negatives)}


def _state(row: ConversationLexicon, in_force: int) -> State:
    if row.published_at is None:
        return "draft"
    return "in_force" if row.number == in_force else "retired"


def summary(row: ConversationLexicon, in_force: int) -> LexiconVersionSummary:
    return LexiconVersionSummary(
        number=row.number,
        version=row.version,
        state=_state(row, in_force),
        counts=row.counts,
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
        published_at=row.published_at,
        published_by=row.published_by,
        rolled_back_to=row.rolled_back_to,
    )


def read(row: ConversationLexicon, in_force: int) -> LexiconVersionRead:
    return LexiconVersionRead(**summary(row, in_force).model_dump(), lexicon=row.lexicon)


async def in_force_number(session: AsyncSession) -> int:
    """The number in force, read now (0: the packaged default)."""
    current = await repository.in_force(session)
    return current[0] if current is not None else 0


async def get(session: AsyncSession, number: int) -> ConversationLexicon:
    row = await repository.get(session, number)
    if row is None:
        raise LexiconVersionNotFound()
    return row


async def _content(session: AsyncSession, number: int) -> dict[str, Any]:
    return default_lexicon() if number == 0 else (await get(session, number)).lexicon


async def list_versions(
    session: AsyncSession, *, limit: int, before: int | None
) -> LexiconVersionList:
    """Versions (drafts included), newest first; ``before`` continues after a list's last."""
    rows = await repository.page(session, limit=limit, before=before)
    current = await in_force_number(session)
    return LexiconVersionList(items=[summary(r, current) for r in rows], in_force=current)


async def get_in_force(session: AsyncSession) -> LexiconInForceRead:
    """The lexicon in force, whole: where a curator starts the next draft from."""
    current = await in_force_number(session)
    lexicon = await _content(session, current)
    return LexiconInForceRead(number=current, version=str(lexicon["version"]), lexicon=lexicon)


async def create_draft(
    session: AsyncSession, *, lexicon: dict[str, Any], note: str | None, actor: str, now: datetime
) -> ConversationLexicon:
    """Store a valid lexicon as the next numbered draft (nothing is stored for a bad one)."""
    version, counts = _parsed(lexicon)
    await repository.lock(session)
    row = ConversationLexicon(
        number=await repository.latest_number(session) + 1,
        lexicon=lexicon,
        version=version,
        digest=digest_of(lexicon),
        counts=counts,
        note=note,
        created_by=actor,
        created_at=now,
    )
    await repository.add(session, row)
    return row


async def _refuse_unchanged(session: AsyncSession, digest: str) -> int:
    """The number in force; ``LexiconUnchanged`` if its content has ``digest``."""
    current = await repository.in_force(session)
    same = current[1] == digest if current else digest == digest_of(default_lexicon())
    number = current[0] if current else 0
    if same:
        raise LexiconUnchanged(f"Version {number} in force already has this content.")
    return number


async def publish(
    session: AsyncSession, number: int, *, actor: str, now: datetime
) -> ConversationLexicon:
    """Put draft ``number`` in force."""
    await repository.lock(session)
    row = await get(session, number)
    if row.published_at is not None:
        raise LexiconAlreadyPublished()
    current = await in_force_number(session)
    if current > number:
        raise LexiconDraftSuperseded(
            f"Version {current} is in force and newer than draft {number}; create a new draft."
        )
    await _refuse_unchanged(session, row.digest)
    row.published_at, row.published_by = now, actor
    await session.flush()
    return row


async def rollback(
    session: AsyncSession, to: int, *, actor: str, now: datetime
) -> ConversationLexicon:
    """Publish a new version with the content of published version ``to`` (0: the packaged
    default) and put it in force; drafts stay drafts."""
    await repository.lock(session)
    if to == 0:
        lexicon = default_lexicon()
    else:
        target = await get(session, to)
        if target.published_at is None:
            raise LexiconNotPublished()
        lexicon = target.lexicon
    digest = digest_of(lexicon)
    await _refuse_unchanged(session, digest)
    version, counts = _parsed(lexicon)
    row = ConversationLexicon(
        number=await repository.latest_number(session) + 1,
        lexicon=lexicon,
        version=version,
        digest=digest,
        counts=counts,
        note=f"rollback to version {to}",
        created_by=actor,
        created_at=now,
        published_at=now,
        published_by=actor,
        rolled_back_to=to,
    )
    await repository.add(session, row)
    return row


async def diff(session: AsyncSession, base: int, number: int) -> LexiconDiffRead:
    """What version ``number`` changes from version ``base`` (0: the packaged default)."""
    new = await _content(session, number)
    old = await _content(session, base)
    return diff_lexicons(old, new, base_number=base, number=number)


async def explain(
    session: AsyncSession, text: str, *, number: int | None, cache: LexiconCache = lexicon_cache
) -> LexiconExplainRead:
    """The hits of version ``number`` (default: the one in force) for ``text``, which is
    neither stored nor logged."""
    found = await (cache.in_force(session) if number is None else cache.version(session, number))
    if found is None:
        raise LexiconVersionNotFound()
    (version_number, _digest), classifier = found
    hits = classifier.classify(text)
    return LexiconExplainRead(
        number=version_number,
        version=classifier.version,
        labels=sorted(labels_of(hits)),
        hits=[ExplainHit(**hit_as_dict(hit)) for hit in hits],
    )


async def in_force(session: AsyncSession, *, cache: LexiconCache = lexicon_cache) -> Classifier:
    """The classifier of the version in force (the packaged default when none was published).

    Compiled once per version per process; which version is in force is read at most once a
    second per process and database (see ``cache``), so callers such as uploads may call this
    for every batch.
    """
    return (await cache.in_force(session))[1]
