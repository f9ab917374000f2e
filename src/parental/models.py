"""Every ORM model of every package, imported so ``Base.metadata`` knows all tables.

Migrations and tests import this module; add each new package's ``models`` here.
"""

from filters.activity.models import BlockedHost as FilterBlockedHost
from filters.activity.models import VerdictCount as FilterVerdictCount
from filters.curation.models import Category as FilterCategory
from filters.curation.models import Entry as FilterEntry
from filters.curation.models import Source as FilterSource
from filters.curation.models import Version as FilterVersion
from filters.profiles.models import FilterProfile, FilterProfileEntry
from filters.reports.models import FilterReport, FilterReportSubmission
from filters.unblock.models import UnblockRequest
from parental.admin.models import StaffAccount
from parental.age_policy.models import AgePolicyRow
from parental.audit.models import AuditEvent
from parental.auth.models import Account, RefreshToken, SignInCode
from parental.children.models import Child
from parental.commands.models import CommandAudio, DeviceCommand
from parental.consent.models import ConsentRecord
from parental.devices.models import Device, PairingCode
from parental.families.models import Family, Guardian, Invitation
from parental.kit.db import Base
from parental.lines.models import Line, LineBinding, ServiceKey
from parental.notifications.models import DevicePushToken, PushOutboxRow, PushToken
from parental.notifications.preferences.models import NotificationPreferencesRow
from telemetry.alarms.models import Alarm, AlarmSettings, LineHandset
from telemetry.alarms.models import DeviceStatus as AlarmDeviceStatus
from telemetry.conversations.lexicons.models import ConversationLexicon
from telemetry.conversations.models import ConversationMessage, MessageAlert
from telemetry.geofences.models import Place as GeofencePlace
from telemetry.geofences.models import PlaceEventRow as GeofenceEvent
from telemetry.locations.models import LocationFix
from telemetry.usage.catalogue.models import AppCatalogueEntry, ChildAppCategory
from telemetry.usage.models import UsageApp, UsageSession
from telemetry.usage.reports.models import LimitReachedMark, WeeklySummaryMark
from telemetry.usage.requests.models import ScreenTimeRequest
from telemetry.usage.rules.models import ScreenTimePolicy
from telemetry.usage.tasks.models import ScreenTimeTask

__all__ = [
    "Account",
    "AgePolicyRow",
    "Alarm",
    "AlarmDeviceStatus",
    "AlarmSettings",
    "AppCatalogueEntry",
    "AuditEvent",
    "Base",
    "Child",
    "ChildAppCategory",
    "CommandAudio",
    "ConsentRecord",
    "ConversationLexicon",
    "ConversationMessage",
    "Device",
    "DeviceCommand",
    "DevicePushToken",
    "Family",
    "FilterBlockedHost",
    "FilterCategory",
    "FilterEntry",
    "FilterProfile",
    "FilterProfileEntry",
    "FilterReport",
    "FilterReportSubmission",
    "FilterSource",
    "FilterVerdictCount",
    "FilterVersion",
    "GeofenceEvent",
    "GeofencePlace",
    "Guardian",
    "Invitation",
    "LimitReachedMark",
    "Line",
    "LineBinding",
    "LineHandset",
    "LocationFix",
    "MessageAlert",
    "NotificationPreferencesRow",
    "PairingCode",
    "PushOutboxRow",
    "PushToken",
    "RefreshToken",
    "ScreenTimePolicy",
    "ScreenTimeRequest",
    "ScreenTimeTask",
    "ServiceKey",
    "SignInCode",
    "StaffAccount",
    "UnblockRequest",
    "UsageApp",
    "UsageSession",
    "WeeklySummaryMark",
]
