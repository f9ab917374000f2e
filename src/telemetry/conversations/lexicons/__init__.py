"""Curators' versions of the conversation-risk lexicon (issue 8), like blocklist versions:
drafts validated on the way in, publish, compare, roll back; and ``in_force(session)``, the
classifier of the version in force, compiled once per version per process (``cache``)."""

from telemetry.conversations.lexicons.service import in_force

__all__ = ["in_force"]
