from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict

from filters.reports.schemas import ReporterType, ReportKind
from parental.kit.events import Event


class ReporterRef(BaseModel):
    """Who filed a submission: a guardian's account or a device, and the child it concerned."""

    model_config = ConfigDict(frozen=True)

    type: ReporterType
    id: str | None
    child_id: uuid.UUID | None


class FilterReportDecided(Event):
    """A curator accepted or rejected a report.

    Published inside the deciding transaction; the notification side tells the guardians and
    devices among ``reporters`` (block page submissions carry nobody to tell). An accepted
    report's rule applies from the next published version.
    """

    report_id: uuid.UUID
    kind: ReportKind
    target: str
    status: Literal["accepted", "rejected"]
    note: str | None
    category: str | None
    action: Literal["block", "allow"] | None
    reporters: tuple[ReporterRef, ...]
