"""Background work of ``parental worker``: purging credentials that can no longer be used.

Sign-in codes, pairing codes, refresh tokens and invitations are kept a while after they stop
working (so a support question can still be answered), then deleted. Children's data classes are
deleted when their retention limit (in the settings) has passed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from filters.activity import service as filter_activity
from parental.auth import repository as auth
from parental.devices import repository as devices
from parental.families import repository as families
from parental.kit.db import transaction
from parental.runtime import Runtime

log = logging.getLogger(__name__)

CREDENTIAL_GRACE = timedelta(days=1)
REVOKED_TOKEN_RETENTION = timedelta(days=30)
CLOSED_INVITATION_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class PurgeReport:
    codes_and_tokens: int
    pairing_codes: int
    invitations: int
    filter_activity: int = 0

    @property
    def total(self) -> int:
        return self.codes_and_tokens + self.pairing_codes + self.invitations + self.filter_activity


async def purge_expired(runtime: Runtime) -> PurgeReport:
    """Delete expired credentials; one transaction."""
    now = runtime.clock.now()
    settings = runtime.settings
    async with transaction(runtime.sessions) as session:
        report = PurgeReport(
            codes_and_tokens=await auth.purge_expired(
                session,
                codes_before=now - CREDENTIAL_GRACE,
                tokens_before=now - REVOKED_TOKEN_RETENTION,
            ),
            pairing_codes=await devices.purge_pairing_codes(session, now - CREDENTIAL_GRACE),
            invitations=await families.purge_closed_invitations(
                session, now - CLOSED_INVITATION_RETENTION
            ),
            filter_activity=await filter_activity.purge(
                session,
                counts_before=(now - timedelta(days=settings.filter_counts_retention_days)).date(),
                blocks_before=(
                    now - timedelta(days=settings.filter_blocked_names_retention_days)
                ).date(),
            ),
        )
    if report.total:
        log.info("purged %s", report)
    return report


async def run_forever(runtime: Runtime, *, interval_seconds: float = 300.0) -> None:
    """Purge on an interval until cancelled; a failed round is logged and retried next time."""
    while True:
        try:
            await purge_expired(runtime)
        except Exception:
            log.exception("purge failed; retrying in %s s", interval_seconds)
        await asyncio.sleep(interval_seconds)
