"""Request field types that take JSON values as the OpenAPI document states them.

FastAPI validates a decoded body as Python objects, in pydantic's lax mode: it would read
``0`` and ``1`` as booleans, ``false`` as a number and a number as a Unix timestamp, none of
which the document allows (Schemathesis's negative_data_rejection, tests/api_contract). These
refuse them: RFC 3339 text is the one way to send a date and time.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Strict, StrictBool, StrictInt

# What pydantic would read as a Unix timestamp when it comes as text (a query parameter).
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _not_a_number(value: Any) -> Any:
    if type(value) is str:
        # RFC 3339 text begins "YYYY-": told apart without the pattern, as a hundred fixes of
        # an upload are (the pattern alone doubled the time to validate an upload).
        if value[4:5] == "-" or not _NUMBER.fullmatch(value):
            return value
    elif not isinstance(value, int | float):
        return value
    raise ValueError("a date and time is RFC 3339 text, not a number")


JsonBool = StrictBool
JsonInt = StrictInt
JsonFloat = Annotated[float, Strict()]  # an integer is a number too; a boolean is not
JsonDatetime = Annotated[datetime, BeforeValidator(_not_a_number)]
JsonAwareDatetime = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]
