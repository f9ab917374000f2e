"""Errors of the RPZ export. A version or profile that does not exist, and nothing published
yet, are the errors the curation and check APIs give for the same thing (imported, not copied).
"""

from __future__ import annotations

from parental.kit.errors import NotFound


class ZoneCategoryNotFound(NotFound):
    message = "No such category: neither curated nor part of the version asked for."
