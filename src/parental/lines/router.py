from __future__ import annotations

from fastapi import APIRouter, Response, status

from parental.audit.service import Actor
from parental.deps import ClockDep, SessionDep, SettingsDep
from parental.kit.errors import error_responses
from parental.lines import service
from parental.lines.dependencies import CarrierKey
from parental.lines.errors import InvalidMsisdn, InvalidServiceKey, LineNotFound
from parental.lines.schemas import LineRead, LineRegister

router = APIRouter(tags=["carrier"], responses=error_responses(InvalidServiceKey, InvalidMsisdn))


@router.put("/lines/{msisdn}", responses={201: {"model": LineRead, "description": "Registered"}})
async def register_line(
    msisdn: str,
    body: LineRegister,
    key: CarrierKey,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    response: Response,
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
    msisdn: str, key: CarrierKey, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> LineRead:
    """Mark a line inactive (contract ended, number ported): monitoring on it stops."""
    line = await service.deactivate_line(
        session,
        msisdn=service.carrier_msisdn(msisdn, settings.carrier_regions),
        now=clock.now(),
        actor=Actor("carrier", key.name),
    )
    return LineRead.model_validate(line)
