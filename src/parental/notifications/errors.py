from __future__ import annotations

from parental.kit.errors import NotFound


class PushTokenNotFound(NotFound):
    message = "No such push token."


class NotificationNotFound(NotFound):
    message = "No such notification."
