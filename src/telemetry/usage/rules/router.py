"""Screen-time rules routes: a guardian sets the child's rules, pauses the child's apps and
grants extra time; the child's device fetches what it may run now.

As in ``telemetry.usage.router``, the package cannot know who is calling: the composition root
passes dependencies that give an ``Editor`` (a guardian of the child, whose changes are checked
against the monitoring rules and audited for the child) or a ``PolicyReader`` (the child's
device, while monitoring applies).

The device's policy carries an ``ETag``: a hash of what the device acts on (the rules, the
pause and the decision), leaving out the instants that move with the clock alone
(``evaluated_at`` and ``next_change``). A request whose ``If-None-Match`` names it gets 304 and
no body: nothing the device enforces has changed, and the ``next_change`` it holds is still
when to ask again (at the latest; usage reported since only brings the answer forward, and
that changes the tag).
"""

# No `from __future__ import annotations`: the routes below are built inside the factories and
# their annotations name local dependencies, which FastAPI must see as objects.

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Header, Response, status
from fastapi.exceptions import RequestValidationError

from parental.kit.errors import AppError, error_responses
from telemetry.usage.callers import ChildCaller
from telemetry.usage.rules import service
from telemetry.usage.rules.schemas import (
    DevicePolicyRead,
    ExtraTimeCreate,
    PauseCreate,
    ScreenTimeRules,
    ScreenTimeRulesRead,
)
from telemetry.usage.service import local_today

RULES = "/children/{child_id}/screen-time/rules"
PAUSE = "/children/{child_id}/screen-time/pause"
EXTRA_TIME = "/children/{child_id}/screen-time/extra-time"


class Editor(ChildCaller, Protocol):
    """A guardian of one child."""

    @property
    def account_id(self) -> str: ...

    async def changed(self, action: str, details: dict[str, Any]) -> None:
        """Refuse unless monitoring applies to the child now; record the change in the audit
        log the child sees, in the request's transaction."""
        ...


class PolicyReader(ChildCaller, Protocol):
    """The child's device, while monitoring applies."""

    def now(self) -> datetime: ...


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("body", field), "msg": f"Value error, {message}", "type": "value_error"}]
    )


def create_guardian_router(
    *,
    editor: Callable[..., Any],
    caller_errors: tuple[type[AppError], ...],
    change_errors: tuple[type[AppError], ...],
) -> APIRouter:
    router = APIRouter(tags=["screen time"], responses=error_responses(*caller_errors))
    EditorDep = Annotated[Editor, Depends(editor)]
    changes = error_responses(*change_errors)

    @router.get(RULES)
    async def get_screen_time_rules(guardian: EditorDep) -> ScreenTimeRulesRead:
        """The child's screen-time rules (nothing limited if none were set), the pause and
        today's extra time. The rules are the guardian's own settings: not audited."""
        now = guardian.now()
        return await service.read_rules(
            guardian.session, guardian.child_id, now=now, today=local_today(now, guardian.zone)
        )

    @router.put(RULES, responses=changes)
    async def update_screen_time_rules(
        body: ScreenTimeRules, guardian: EditorDep
    ) -> ScreenTimeRulesRead:
        """Replace the child's rules whole: limits per app, per category and in total,
        downtime, always-allowed and blocked apps. The child's device shows the change."""
        now = guardian.now()
        read = await service.replace_rules(
            guardian.session,
            guardian.child_id,
            body,
            now=now,
            today=local_today(now, guardian.zone),
        )
        await guardian.changed("screen_time.rules_changed", {"revision": read.revision})
        return read

    @router.post(PAUSE, responses=changes)
    async def create_screen_time_pause(
        body: PauseCreate, guardian: EditorDep
    ) -> ScreenTimeRulesRead:
        """Stop every app but the always-allowed ones until ``until`` (in the future, at most
        7 days ahead). The child's device shows the change."""
        now = guardian.now()
        problem = service.pause_problem(body.until, now)
        if problem is not None:
            raise _invalid("until", problem)
        read = await service.pause(
            guardian.session,
            guardian.child_id,
            until=body.until,
            now=now,
            today=local_today(now, guardian.zone),
        )
        await guardian.changed(
            "screen_time.paused", {"until": body.until.isoformat(), "revision": read.revision}
        )
        return read

    @router.delete(PAUSE, status_code=status.HTTP_204_NO_CONTENT, responses=changes)
    async def delete_screen_time_pause(guardian: EditorDep) -> None:
        """End the pause now (nothing happens if none is on). The child's device shows it."""
        now = guardian.now()
        read, resumed = await service.resume(
            guardian.session, guardian.child_id, now=now, today=local_today(now, guardian.zone)
        )
        if resumed:
            await guardian.changed("screen_time.resumed", {"revision": read.revision})

    @router.post(EXTRA_TIME, responses=changes)
    async def create_screen_time_extra_time(
        body: ExtraTimeCreate, guardian: EditorDep
    ) -> ScreenTimeRulesRead:
        """Grant 1 to 240 more minutes to an app or a category, for the child's today only.
        The child's device shows the change."""
        now = guardian.now()
        today = local_today(now, guardian.zone)
        read = await service.grant_extra_time(
            guardian.session,
            guardian.child_id,
            body,
            granted_by=guardian.account_id,
            now=now,
            today=today,
        )
        await guardian.changed(
            "screen_time.extra_time",
            {
                **body.model_dump(mode="json", exclude_none=True),
                "day": today.isoformat(),
                "revision": read.revision,
            },
        )
        return read

    return router


def etag_of(policy: DevicePolicyRead) -> str:
    """The tag of what the device enforces (see the module docstring)."""
    stable = policy.model_dump_json(exclude={"evaluated_at": True, "decision": {"next_change"}})
    return '"' + hashlib.sha256(stable.encode()).hexdigest() + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    # If-None-Match compares weakly (RFC 9110 13.1.2): a W/ prefix still matches.
    return "*" in tags or etag in {tag.removeprefix("W/") for tag in tags}


def create_device_router(
    *, reader: Callable[..., Any], caller_errors: tuple[type[AppError], ...]
) -> APIRouter:
    router = APIRouter(tags=["device agent"], responses=error_responses(*caller_errors))
    ReaderDep = Annotated[PolicyReader, Depends(reader)]

    @router.get(
        "/device/policy",
        response_model=DevicePolicyRead,
        responses={304: {"description": "Not modified: the ETag in If-None-Match is current"}},
    )
    async def get_device_policy(
        device: ReaderDep,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        """What the child's device may run now: the rules, the pause and, per app, whether
        it is allowed, why and the minutes it has left today; fetch again at
        ``next_change``. Each app is in the category a guardian gave it for the child,
        else the app catalogue's, else other."""
        policy = await service.device_policy(
            device.session, device.child_id, now=device.now(), zone=device.zone
        )
        body = policy.model_dump_json().encode()
        etag = etag_of(policy)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if _matches(if_none_match, etag):
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(content=body, media_type="application/json", headers=headers)

    return router
