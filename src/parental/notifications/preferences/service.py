"""A guardian's notification preferences: reading and saving them, and deciding for each notice
whether it goes now, waits for the end of quiet hours, or is dropped.

- A guardian reads and replaces only their own preferences (the account of the token: no id
  is taken, so no one else's can be named). They are the guardian's own settings, not a
  child's data: saving them is not audited.
- Until first saved, the defaults hold: every kind on, no quiet hours, the service's default
  zone (``notification_default_timezone``), the account's language. A language the guardian
  chose (``locale_chosen``) is used for every notice; without one, each phone gets its notices
  in the language its app registered with (``notify``), the inbox in the account's.
- ``deliver_now`` is pure: a kind switched off is dropped; a kind that goes through quiet hours
  (SOS, not arrived, self-harm) is sent; any other is held until the instant the quiet hours
  around ``at`` end, read on the guardian's wall clock (``parental.kit.weekly``: overnight
  windows, daylight-saving changes), and sent otherwise.

Services run in the caller's transaction and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from parental.auth.models import Account
from parental.i18n import DEFAULT_LOCALE, Locale
from parental.kit.weekly import WindowSet
from parental.notifications.kinds import KINDS, Kind
from parental.notifications.preferences.models import NotificationPreferencesRow as Row
from parental.notifications.preferences.schemas import (
    KindPreferenceRead,
    NotificationPreferences,
    NotificationPreferencesRead,
    QuietHoursWindow,
    quiet_set,
)

_LOCALES: tuple[Locale, ...] = get_args(Locale)


@dataclass(frozen=True, slots=True)
class Preferences:
    """What deciding a notice needs of one guardian's preferences; ``locale_chosen``: the
    guardian saved a language (else ``locale`` is the account's)."""

    locale: Locale
    zone: ZoneInfo
    quiet: WindowSet = field(default_factory=WindowSet)
    disabled: frozenset[str] = frozenset()
    locale_chosen: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """``send`` now; ``hold`` until ``until`` (the end of quiet hours); ``drop`` (switched off)."""

    action: Literal["send", "hold", "drop"]
    until: datetime | None = None


SEND = Decision("send")
DROP = Decision("drop")


def deliver_now(prefs: Preferences, kind: Kind, at: datetime) -> Decision:
    """Whether a notice of ``kind`` at ``at`` goes to the guardian now, later, or not at all."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    if kind.may_switch_off and kind.name in prefs.disabled:
        return DROP
    if kind.through_quiet_hours:
        return SEND
    local = at.astimezone(prefs.zone)
    if not prefs.quiet.contains(local):
        return SEND
    until = prefs.quiet.next_change(at, prefs.zone, local)
    # Quiet hours always leave time free (refused otherwise), so they always end; were they
    # not to, a notice held for ever would be lost: send it.
    return SEND if until is None else Decision("hold", until)


def account_locale(account: Account) -> Locale:
    return account.locale if account.locale in _LOCALES else DEFAULT_LOCALE


def _windows(row: Row | None) -> list[QuietHoursWindow]:
    return [QuietHoursWindow.model_validate(w) for w in row.quiet_hours] if row else []


def of_row(row: Row | None, account: Account, default_zone: str) -> Preferences:
    """The guardian's preferences from their row (None: the defaults)."""
    if row is None:
        return Preferences(locale=account_locale(account), zone=ZoneInfo(default_zone))
    return Preferences(
        locale=row.locale if row.locale in _LOCALES else account_locale(account),
        zone=ZoneInfo(row.timezone),
        quiet=quiet_set(_windows(row)),
        disabled=frozenset(row.disabled_kinds),
        locale_chosen=row.locale in _LOCALES,
    )


def _read(row: Row | None, account: Account, default_zone: str) -> NotificationPreferencesRead:
    prefs = of_row(row, account, default_zone)
    return NotificationPreferencesRead(
        kinds=[
            KindPreferenceRead(
                kind=kind.name,
                enabled=not (kind.may_switch_off and kind.name in prefs.disabled),
                may_switch_off=kind.may_switch_off,
                through_quiet_hours=kind.through_quiet_hours,
                priority=kind.priority,
            )
            for kind in KINDS
        ],
        quiet_hours=_windows(row),
        timezone=row.timezone if row else default_zone,
        locale=prefs.locale,
        locale_follows_account=row is None or row.locale is None,
        updated_at=row.updated_at if row else None,
    )


async def read_preferences(
    session: AsyncSession, *, account: Account, default_zone: str
) -> NotificationPreferencesRead:
    """The guardian's preferences, or the defaults until they saved some."""
    row = await session.get(Row, account.id)
    return _read(row, account, default_zone)


async def save_preferences(
    session: AsyncSession,
    *,
    account: Account,
    body: NotificationPreferences,
    now: datetime,
    default_zone: str,
) -> NotificationPreferencesRead:
    """Replace the guardian's preferences with ``body`` (already validated whole)."""
    row = await session.get(Row, account.id)
    if row is None:
        row = Row(account_id=account.id)
        session.add(row)
    row.locale = body.locale
    row.timezone = body.timezone or default_zone
    row.disabled_kinds = sorted(name for name, on in body.kinds.items() if not on)
    row.quiet_hours = [w.model_dump() for w in body.quiet_hours]
    row.updated_at = now
    await session.flush()
    return _read(row, account, default_zone)
