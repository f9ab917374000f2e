from __future__ import annotations

from parental.kit.errors import Conflict, NotFound


class AppNotInCatalogue(NotFound):
    message = "No app with this id is in the catalogue."


class TooManyAppCategories(Conflict):
    message = (
        "This child has the most apps with a guardian's category allowed; give some back to "
        "the catalogue first."
    )
