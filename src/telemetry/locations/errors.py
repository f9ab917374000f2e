"""Errors of location reading; upload problems are answered per fix, not as errors.

AppError
└── BadRequest 400: InvalidPeriod
"""

from __future__ import annotations

from parental.kit.errors import BadRequest


class InvalidPeriod(BadRequest):
    message = "since must be earlier than until."
