"""``/age-policy`` for the carrier's systems (mounted under ``/carrier/v1``, service key)."""

from __future__ import annotations

from fastapi import APIRouter

from parental.age_policy import service
from parental.age_policy.cache import age_policy_cache
from parental.age_policy.schemas import AgePolicyRead, AgePolicyUpdate
from parental.audit.service import Actor
from parental.deps import ClockDep, SessionDep, SettingsDep
from parental.kit.errors import error_responses
from parental.lines.dependencies import CarrierKey
from parental.lines.errors import InvalidServiceKey

router = APIRouter(tags=["carrier"], responses=error_responses(InvalidServiceKey))


@router.get("/age-policy")
async def get_age_policy(
    key: CarrierKey, session: SessionDep, settings: SettingsDep
) -> AgePolicyRead:
    """The age policy in force: until which age guardians read whole conversations, until
    which they get alerts with excerpts, the bands listening is offered for, and from which
    age the child's own consent is needed (``source``: set by you, or the deployment's
    defaults)."""
    return AgePolicyRead.of(await service.committed(session, settings))


@router.put("/age-policy")
async def update_age_policy(
    body: AgePolicyUpdate,
    key: CarrierKey,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> AgePolicyRead:
    """Replace the age policy. It applies to every child at once: in this service's next
    request, everywhere within a second; a child's device shows its new mode when it next
    reads it. Ages that contradict each other (excerpts ending before transcripts, anything
    over 18) are refused with 422 and nothing changes. Every change is in the audit log with
    the key's name, the old and the new values."""
    policy, changed = await service.change(
        session, settings, body.policy(), actor=Actor("carrier", key.name), now=clock.now()
    )
    if changed:
        await session.commit()
        age_policy_cache.put(session, policy)  # this process answers by it from now on
    return AgePolicyRead.of(policy)
