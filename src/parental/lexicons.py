"""Wiring conversation-lexicon curation into the admin API: any signed-in staff member
(curator or admin) curates, and every change is audited as theirs, through the same
``StaffCurator`` blocklist curation uses. Routes: ``/admin/v1/conversation-lexicon/...``."""

from __future__ import annotations

from fastapi import APIRouter

from parental.admin.errors import InvalidStaffToken
from parental.curation import staff_curator
from telemetry.conversations.lexicons.router import create_router


def conversation_lexicon_router() -> APIRouter:
    return create_router(curator=staff_curator, caller_errors=(InvalidStaffToken,))
