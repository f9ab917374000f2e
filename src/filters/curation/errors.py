"""Errors of blocklist curation, each rendered as ``{"error": "<class name>", "detail": ...}``.

AppError
├── BadRequest 400: InvalidList, InvalidEntry, InvalidSource
├── NotFound 404: CategoryNotFound, SourceNotFound, EntryNotFound, VersionNotFound
├── Conflict 409: CategoryExists, BuiltinCategory, CategoryInUse, SourceExists,
│                 SourcePublished, ImportRefused, NotRefreshable, NothingToPublish,
│                 ImportRunning
└── RefreshFailed 502 (the failure is recorded on the source: the request's changes stay)
"""

from __future__ import annotations

from parental.kit.errors import AppError, BadRequest, Conflict, NotFound


class CategoryNotFound(NotFound):
    message = "No such category."


class CategoryExists(Conflict):
    message = "A category with this key already exists."


class BuiltinCategory(Conflict):
    message = "A built-in category cannot be deleted or change its kind."


class CategoryInUse(Conflict):
    message = "The category has sources; delete or move them first."


class SourceNotFound(NotFound):
    message = "No such source."


class SourceExists(Conflict):
    message = "A source with this name already exists."


class InvalidSource(BadRequest):
    message = "The source's settings do not fit its kind."


class SourcePublished(Conflict):
    message = (
        "The source is part of a published version, which must stay re-compilable: "
        "disable it instead."
    )


class ImportRefused(Conflict):
    message = "Manual sources take their entries one by one, not from an imported list."


class ImportRunning(Conflict):
    message = "An import of this source is already running; wait for it to finish."


class NotRefreshable(Conflict):
    message = "Only URL sources are refreshed."


class RefreshFailed(AppError):
    """The list's server failed us; the source keeps its last good rules and records why."""

    status_code = 502
    message = "The list could not be fetched; the source keeps its last good rules."
    keep_changes = True


class VersionNotFound(NotFound):
    message = "No such published version."


class NothingToPublish(Conflict):
    message = "Nothing to publish."


class InvalidList(BadRequest):
    message = "The list could not be read in any known format."


class EntryNotFound(NotFound):
    message = "No such entry."


class InvalidEntry(BadRequest):
    message = "The entry is not a valid name or URL."
