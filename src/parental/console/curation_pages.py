"""Looking a name up, single entries, and published versions."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from filters.curation import categories, entries, sources, versions
from filters.curation.errors import InvalidEntry
from filters.curation.schemas import EntryCreate, EntryRemove, VersionCreate
from parental.console import actions
from parental.console.lookup import BANDS, look_up
from parental.console.web import CheckedForm, ConsoleRoute, SignedIn, field, render, see_other
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.kit.paging import DEFAULT_PAGE_SIZE

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

Band = Literal["under_9", "9_12", "13_15", "16_17"]
State = Literal["live", "draft", "pending", "removed"]
# Version numbers are an INTEGER column: larger ones are refused here, not by the database.
MAX_VERSION = 2**31 - 1
VersionNumber = Annotated[int, Path(ge=1, le=MAX_VERSION)]
VersionQuery = Annotated[int, Query(ge=0, le=MAX_VERSION)]


@router.get("/lookup")
async def show_lookup(
    request: Request,
    signed: SignedIn,
    session: SessionDep,
    runtime: RuntimeDep,
    target: Annotated[str | None, Query(max_length=2048)] = None,
    band: Band | Literal[""] | None = None,
) -> Response:
    """A name or URL: its verdicts, the deciding rule, its source and history."""
    found = None
    names: dict[str, str] = {}
    if target and target.strip():
        found = await look_up(
            session,
            runtime.snapshots,
            target.strip(),
            band=band or None,
            timezone=runtime.settings.default_child_timezone,
            now=runtime.clock.now(),
        )
        if found.history:
            names = await actions.staff_names(
                session,
                {r.added_by for r in found.history.rows}
                | {r.removed_by for r in found.history.rows if r.removed_by},
            )
    return render(
        request,
        "lookup.html",
        {"target": target or "", "band": band, "bands": BANDS, "found": found, "who": names},
    )


# --- entries ------------------------------------------------------------------------------


@router.get("/entries")
async def show_entries(
    request: Request,
    signed: SignedIn,
    session: SessionDep,
    runtime: RuntimeDep,
    q: Annotated[str | None, Query(max_length=253)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    source: Annotated[str | None, Query(max_length=36)] = None,
    state: Annotated[State | Literal[""] | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Search the rules by text, category, source and state, newest first."""
    source_id = _optional_uuid(source)
    page = await entries.search(
        session,
        contains=q or None,
        suffix=None,
        source_id=source_id,
        category=category or None,
        state=state or None,
        limit=DEFAULT_PAGE_SIZE,
        cursor=cursor or None,
    )
    now = runtime.clock.now()
    return render(
        request,
        "entries.html",
        {
            "page": page,
            "filters": {"q": q, "category": category, "source": source, "state": state},
            "categories": await categories.list_categories(session, now=now),
            "sources": await sources.list_sources(session),
            "who": await actions.staff_names(session, {e.added_by for e in page.items}),
        },
    )


def _optional_uuid(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidEntry("source: not a source id") from exc


@router.post("/entries")
async def add_entry(
    signed: SignedIn, form: CheckedForm, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> Response:
    """Block or allow a name or URL in a category's manual list, with a reason."""
    body = EntryCreate.model_validate(
        {
            "category": field(form, "category"),
            "target": field(form, "target") or "",
            "action": field(form, "action") or "block",
            "subdomains": field(form, "subdomains") == "on",
            "reason": field(form, "reason") or "",
        }
    )
    staff = actions.curator(session, signed.staff, runtime, ip)
    read = await actions.endpoint("create_blocklist_entry")(body=body, staff=staff)
    return see_other(f"/entries/{read.id}", notice="entry_added")


@router.get("/entries/{entry_id}")
async def show_entry(
    request: Request,
    entry_id: uuid.UUID,
    signed: SignedIn,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """One entry: who added it and why, which import brought it, the versions that held it."""
    history = await entries.history(session, await entries.get(session, entry_id))
    who = await actions.staff_names(
        session,
        {r.added_by for r in history.rows} | {r.removed_by for r in history.rows if r.removed_by},
    )
    return render(
        request,
        "entry.html",
        {
            "history": history,
            "who": who,
            "categories": await categories.list_categories(session, now=runtime.clock.now()),
        },
    )


@router.post("/entries/{entry_id}/remove")
async def remove_entry(
    entry_id: uuid.UUID,
    signed: SignedIn,
    form: CheckedForm,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> Response:
    """Take the rule out of the draft, with a reason; it leaves at the next publish."""
    body = EntryRemove.model_validate({"reason": field(form, "reason") or ""})
    staff = actions.curator(session, signed.staff, runtime, ip)
    await actions.endpoint("remove_blocklist_entry")(entry_id=entry_id, body=body, staff=staff)
    return see_other(f"/entries/{entry_id}", notice="entry_removed")


@router.post("/entries/{entry_id}/move")
async def move_entry(
    entry_id: uuid.UUID,
    signed: SignedIn,
    form: CheckedForm,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> Response:
    """Move the rule to another category's manual list: removed here, added there, both
    with the reason, in one transaction."""
    reason = field(form, "reason") or ""
    remove = EntryRemove.model_validate({"reason": reason})
    row = await entries.read(session, await entries.get(session, entry_id))
    add = EntryCreate.model_validate(
        {
            "category": field(form, "category"),
            "target": row.host + row.path,
            "action": row.action,
            "subdomains": row.scope != "exact",
            "reason": reason,
        }
    )
    if add.category == row.category:
        raise InvalidEntry("The rule is in this category already.")
    staff = actions.curator(session, signed.staff, runtime, ip)
    await actions.endpoint("remove_blocklist_entry")(entry_id=entry_id, body=remove, staff=staff)
    moved = await actions.endpoint("create_blocklist_entry")(body=add, staff=staff)
    return see_other(f"/entries/{moved.id}", notice="entry_moved")


# --- versions -----------------------------------------------------------------------------


@router.get("/versions")
async def show_versions(
    request: Request,
    signed: SignedIn,
    session: SessionDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
) -> Response:
    """Published versions, newest first, and the changes waiting for the next one."""
    listed = await versions.list_versions(session, limit=DEFAULT_PAGE_SIZE, before=before)
    pending = await entries.search(
        session,
        contains=None,
        suffix=None,
        source_id=None,
        category=None,
        state="pending",
        limit=DEFAULT_PAGE_SIZE,
        cursor=None,
    )
    who = await actions.staff_names(session, {v.published_by for v in listed.items})
    return render(
        request,
        "versions.html",
        {"versions": listed.items, "pending": pending, "who": who},
    )


@router.post("/versions")
async def publish_version(
    signed: SignedIn, form: CheckedForm, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> Response:
    """Publish the pending changes with a note, and put the version in force."""
    body = VersionCreate.model_validate({"note": field(form, "note")})
    staff = actions.curator(session, signed.staff, runtime, ip)
    read = await actions.endpoint("create_filter_version")(body=body, staff=staff)
    return see_other("/versions", notice=f"published_{read.number}")


@router.get("/versions/{number}/diff")
async def show_diff(
    request: Request,
    number: VersionNumber,
    signed: SignedIn,
    session: SessionDep,
    base: Annotated[int | None, Query(ge=0, le=MAX_VERSION)] = None,
) -> Response:
    """What changed between two versions (the previous one by default)."""
    diff = await versions.diff(session, number - 1 if base is None else base, number, limit=200)
    return render(request, "diff.html", {"diff": diff})


@router.get("/diff")
async def show_any_diff(
    request: Request,
    signed: SignedIn,
    session: SessionDep,
    base: VersionQuery,
    number: VersionQuery,
) -> Response:
    """What changed between any two versions."""
    diff = await versions.diff(session, base, number, limit=200)
    return render(request, "diff.html", {"diff": diff})


@router.post("/versions/{number}/rollback")
async def roll_back(
    number: VersionNumber,
    signed: SignedIn,
    form: CheckedForm,
    session: SessionDep,
    runtime: RuntimeDep,
    ip: ClientIP,
) -> Response:
    """Publish a new version with the content of version ``number``."""
    staff = actions.curator(session, signed.staff, runtime, ip)
    read = await actions.endpoint("create_filter_rollback")(number=number, staff=staff)
    return see_other("/versions", notice=f"published_{read.number}")
