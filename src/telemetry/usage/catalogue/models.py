"""The app catalogue curators keep, and the categories a guardian gives apps for one child.

``AppCatalogueEntry``: one row per app id (an Android package or an iOS bundle id; the two ids
of one app are two rows), shared by every family. The product ships a starter catalogue
(``telemetry/usage/catalogue/data/app_catalogue.csv``, seeded by the migration that creates
the table, ``updated_by`` None); curators edit it through the admin API, ``updated_by`` their
staff id. ``always_allowed`` marks the apps a child needs to reach help (the phone, SMS and
messages, emergency and SOS apps, maps): every child's policy allows them, whatever else holds
(``telemetry.usage.rules.service``). The shipped ones are set by a later migration
(``20261204_0031``).

``ChildAppCategory``: a guardian's category for an app, for one child only; it wins over the
catalogue (``telemetry.usage.catalogue.lookup``). ``child_id`` names a child of the parental package
by id (no foreign key across packages); the rows are deleted with the child
(``telemetry.usage.catalogue.service.erase_child``). They are the guardian's settings, like the
screen-time rules, so no retention purge applies to them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, String, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from parental.kit.db import Base, UTCDateTime

MAX_CATEGORY = 16
MAX_NOTE = 500


class AppCatalogueEntry(Base):
    __tablename__ = "app_catalogue"
    __table_args__ = (Index("ix_app_catalogue_category", "category", "app"),)

    app: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    category: Mapped[str] = mapped_column(String(MAX_CATEGORY))  # a telemetry.usage Category
    note: Mapped[str | None] = mapped_column(String(MAX_NOTE))
    always_allowed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # staff id; None: shipped


class ChildAppCategory(Base):
    __tablename__ = "child_app_categories"

    child_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    app: Mapped[str] = mapped_column(String(255), primary_key=True)
    category: Mapped[str] = mapped_column(String(MAX_CATEGORY))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[uuid.UUID] = mapped_column(Uuid)  # the guardian's account id
