from __future__ import annotations

from parental.kit.errors import Conflict, Unauthorized


class InvalidStaffCredentials(Unauthorized):
    message = "Wrong username or password."


class InvalidStaffToken(Unauthorized):
    message = "A staff access token is required."


class StaffAccountExists(Conflict):
    message = "A staff account with this username already exists."
