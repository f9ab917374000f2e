from __future__ import annotations

from parental.kit.errors import BadRequest, Conflict, NotFound


class CategoryNotFound(NotFound):
    message = "No such category."


class SourceNotFound(NotFound):
    message = "No such source."


class SourceExists(Conflict):
    message = "A source with this name already exists."


class VersionNotFound(NotFound):
    message = "No such published version."


class NothingToPublish(Conflict):
    message = "No enabled source has any rule; nothing to publish."


class InvalidList(BadRequest):
    message = "The list could not be read in any known format."


class EntryNotFound(NotFound):
    message = "No such entry in the draft."


class InvalidEntry(BadRequest):
    message = "The entry is not a valid name or URL."
