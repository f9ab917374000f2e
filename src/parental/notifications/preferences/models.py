"""A guardian's notification preferences, one row per account (none until first saved).

``disabled_kinds`` lists the kinds switched off, so a kind added later starts on for everyone;
``quiet_hours`` holds the ``QuietHoursWindow`` list as JSON, read on the wall clock of
``timezone``. ``locale`` null means the account's own language (``Account.locale``), so
changing it on ``/v1/me`` changes the notifications too. The row goes with the account
(foreign key, ``ON DELETE CASCADE``): it is the guardian's own setting and is kept as long as
the account is, not a data class with a retention of its own.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, PortableJSON, UTCDateTime


class NotificationPreferencesRow(Base):
    __tablename__ = "notification_preferences"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    locale: Mapped[str | None] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    disabled_kinds: Mapped[list[str]] = mapped_column(PortableJSON)
    # [{"days": ["mon", ...], "start": "22:00", "end": "07:00"}, ...]
    quiet_hours: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
