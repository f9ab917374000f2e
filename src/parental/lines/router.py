from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, BackgroundTasks, Query, Response, status

from parental.audit.service import Actor
from parental.children import repository as children_repository
from parental.deps import ClockDep, RuntimeDep, SessionDep, SettingsDep
from parental.kit.errors import error_responses
from parental.lines import bindings, service
from parental.lines.dependencies import CarrierKey
from parental.lines.errors import (
    BindingNotFound,
    InvalidBindingAddress,
    InvalidMsisdn,
    InvalidServiceKey,
    LineInactive,
    LineNotFound,
    SessionMismatch,
)
from parental.lines.index_store import announce_change
from parental.lines.models import Line, LineBinding
from parental.lines.schemas import (
    BindingEvent,
    BindingRead,
    BindingResult,
    BindingStatus,
    LineRead,
    LineRegister,
)

router = APIRouter(tags=["carrier"], responses=error_responses(InvalidServiceKey, InvalidMsisdn))


@router.put("/lines/{msisdn}", responses={201: {"model": LineRead, "description": "Registered"}})
async def register_line(
    msisdn: str,
    body: LineRegister,
    key: CarrierKey,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    runtime: RuntimeDep,
    response: Response,
    background: BackgroundTasks,
) -> LineRead:
    """Register or update a line: whether it is a child SIM and who holds its contract."""
    line, created = await service.register_line(
        session,
        msisdn=service.carrier_msisdn(msisdn, settings.carrier_regions),
        guardian_phone=body.guardian_phone,
        is_child_sim=body.is_child_sim,
        active=body.active,
        now=clock.now(),
        actor=Actor("carrier", key.name),
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    if not (line.active and line.is_child_sim):  # its bindings, if any, have ended
        background.add_task(announce_change, runtime.notices)
    child = await children_repository.by_line(session, line.id)
    if child is not None:  # a new contract holder, the end of a child SIM: reads re-check
        background.add_task(runtime.revoke_access, [child.id])
    return LineRead.model_validate(line)


@router.get("/lines/{msisdn}", responses=error_responses(LineNotFound))
async def get_line(
    msisdn: str, key: CarrierKey, session: SessionDep, settings: SettingsDep
) -> LineRead:
    """The carrier's record of a line."""
    line = await service.get_line(session, service.carrier_msisdn(msisdn, settings.carrier_regions))
    return LineRead.model_validate(line)


@router.delete("/lines/{msisdn}", responses=error_responses(LineNotFound))
async def deactivate_line(
    msisdn: str,
    key: CarrierKey,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    runtime: RuntimeDep,
    background: BackgroundTasks,
) -> LineRead:
    """Mark a line inactive (contract ended, number ported): monitoring on it stops."""
    line = await service.deactivate_line(
        session,
        msisdn=service.carrier_msisdn(msisdn, settings.carrier_regions),
        now=clock.now(),
        actor=Actor("carrier", key.name),
    )
    background.add_task(announce_change, runtime.notices)
    child = await children_repository.by_line(session, line.id)
    if child is not None:
        background.add_task(runtime.revoke_access, [child.id])
    return LineRead.model_validate(line)


def _binding_read(binding: LineBinding, line: Line) -> BindingRead:
    return BindingRead(
        msisdn=line.msisdn,
        network=binding.network,
        session_id=binding.session_id,
        started_at=binding.started_at,
        expires_at=binding.expires_at,
        ended_at=binding.ended_at,
        end_reason=binding.end_reason,
    )


@router.post(
    "/bindings",
    responses={
        202: {"model": BindingResult, "description": "Accepted and ignored (see reason)"},
        **error_responses(LineNotFound, LineInactive, InvalidBindingAddress, SessionMismatch),
    },
)
async def create_binding_event(
    body: BindingEvent,
    key: CarrierKey,
    session: SessionDep,
    runtime: RuntimeDep,
    response: Response,
    background: BackgroundTasks,
) -> BindingResult:
    """Apply a RADIUS accounting Start, Interim or Stop: which address a child line holds.

    Issue 4 names this ``/v1/carrier/bindings``; it lives beside the carrier's other routes
    under ``/carrier/v1`` so the carrier has one API with one prefix.
    """
    settings = runtime.settings
    outcome = await bindings.record_event(
        session,
        msisdn=service.carrier_msisdn(body.msisdn, settings.carrier_regions),
        ip=body.ip,
        event=body.event,
        session_id=body.session_id,
        ttl=timedelta(seconds=body.ttl_seconds or settings.line_binding_ttl_seconds),
        now=runtime.clock.now(),
    )
    if outcome.changed:  # runs after the response, so after the session has committed
        background.add_task(announce_change, runtime.notices)
    if outcome.status is BindingStatus.IGNORED:
        response.status_code = status.HTTP_202_ACCEPTED
    read = None
    if outcome.binding is not None and outcome.line is not None:
        read = _binding_read(outcome.binding, outcome.line)
    return BindingResult(status=outcome.status, reason=outcome.reason, binding=read)


@router.get("/bindings", responses=error_responses(BindingNotFound, InvalidBindingAddress))
async def get_binding(
    key: CarrierKey,
    session: SessionDep,
    clock: ClockDep,
    ip: str = Query(max_length=64, description="An IPv4 or IPv6 address"),
) -> BindingRead:
    """The live binding an address maps to now (IPv6: the longest bound prefix holding it)."""
    binding, line = await bindings.binding_for_address(session, ip, clock.now())
    return _binding_read(binding, line)
