"""Whether monitoring may apply to a child: a pure rule, no I/O.

Monitoring applies only while the child is under 18 (in the child's own time zone), and only on
an active line the carrier registered as a child SIM under the contract of one of the child's
guardians. Everything that watches a child asks this first; the child's device shows the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

ADULT_AGE = 18
ADULT = "adult"  # the reason once the child is 18: final, unlike the line's reasons


def adulthood_date(birthdate: date) -> date:
    """The 18th birthday; for 29 February, 28 February of a common year (the earlier day)."""
    try:
        return birthdate.replace(year=birthdate.year + ADULT_AGE)
    except ValueError:
        return date(birthdate.year + ADULT_AGE, 2, 28)


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class Monitoring:
    active: bool
    ends_on: date
    reasons: list[str] = field(default_factory=list)


def monitoring_status(
    *,
    birthdate: date,
    timezone: str,
    now: datetime,
    line_active: bool,
    line_is_child_sim: bool,
    line_guardian_phone: str,
    guardian_phones: list[str],
) -> Monitoring:
    """Whether monitoring is active, and if not, every reason why."""
    ends_on = adulthood_date(birthdate)
    reasons: list[str] = []
    if local_today(now, timezone) >= ends_on:
        reasons.append(ADULT)
    if not line_active:
        reasons.append("line_inactive")
    if not line_is_child_sim:
        reasons.append("not_child_sim")
    if line_guardian_phone not in guardian_phones:
        reasons.append("not_guardians_line")
    return Monitoring(active=not reasons, ends_on=ends_on, reasons=reasons)
