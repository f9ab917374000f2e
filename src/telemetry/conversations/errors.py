from __future__ import annotations

from parental.kit.errors import Forbidden, NotFound


class MessageAlertNotFound(NotFound):
    message = "No such message alert."


class ConversationNotFound(NotFound):
    message = "No such conversation."


class TranscriptsNotForThisAge(Forbidden):
    message = (
        "Whole conversations are shown only for younger children; for this child's age the "
        "guardians get alerts with excerpts."
    )


class MessagesNotForThisAge(Forbidden):
    message = (
        "For this child's age the carrier's age policy shows guardians nothing of the child's "
        "messages (no alerts, excerpts or conversations), and none are collected."
    )
