from __future__ import annotations

from parental.kit.errors import BadRequest, NotFound, ServiceUnavailable


class InvalidItem(BadRequest):
    message = "An item is not a valid name or URL."


class ProfileNotFound(NotFound):
    message = "No such filter profile."


class NoPublishedVersion(ServiceUnavailable):
    message = "No blocklist version has been published yet."
