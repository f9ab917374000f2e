from __future__ import annotations

from parental.kit.errors import BadRequest, Conflict, NotFound


class InvalidReportTarget(BadRequest):
    message = "The target is not a valid name or URL."


class ReportNotFound(NotFound):
    message = "No such filter report."


class ReportAlreadyDecided(Conflict):
    message = "This report has already been decided."


class NoteRequired(BadRequest):
    message = "Rejecting a report needs a note saying why; the reporters read it."


class CategoryRequired(BadRequest):
    message = "Choose the category whose manual list gets the rule."


class InvalidCategory(BadRequest):
    message = "No such category, or not one whose lists block."
