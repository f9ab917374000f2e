"""Errors of the child's requests and tasks.

::

    NotFound
    ├── ScreenTimeRequestNotFound       another child's request is as unknown as a made-up id
    └── ScreenTimeTaskNotFound
    Conflict
    ├── ScreenTimeRequestAlreadyDecided
    ├── ScreenTimeRequestExpired        extra time unanswered by the child's midnight
    ├── TooManyPendingRequests          the child has the most pending requests allowed
    ├── TooManyOpenTasks
    ├── ScreenTimeTaskNotOpen           only an open task can be marked done
    └── ScreenTimeTaskNotDone           only a done task can be approved or declined
    BadRequest
    └── InvalidRequestDecision          minutes given to approve an app install
"""

from __future__ import annotations

from parental.kit.errors import BadRequest, Conflict, NotFound


class ScreenTimeRequestNotFound(NotFound):
    message = "No such screen-time request."


class ScreenTimeRequestAlreadyDecided(Conflict):
    message = "This request has already been answered."


class ScreenTimeRequestExpired(Conflict):
    message = "This request was not answered on the day it was for and has expired."


class TooManyPendingRequests(Conflict):
    message = "Too many requests are waiting for an answer; wait for one before asking again."


class InvalidRequestDecision(BadRequest):
    message = "minutes go with approving extra time only."


class ScreenTimeTaskNotFound(NotFound):
    message = "No such task."


class TooManyOpenTasks(Conflict):
    message = "The child has too many tasks not yet answered; remove or answer some first."


class ScreenTimeTaskNotOpen(Conflict):
    message = "This task is not open: it was already marked done or answered."


class ScreenTimeTaskNotDone(Conflict):
    message = "Only a task the child marked done can be approved or declined."
