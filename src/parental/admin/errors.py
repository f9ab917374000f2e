from __future__ import annotations

from parental.kit.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized


class InvalidStaffCredentials(Unauthorized):
    message = "Wrong username or password."


class InvalidStaffToken(Unauthorized):
    message = "A staff access token is required."


class StaffAccountExists(Conflict):
    message = "A staff account with this username already exists."


class SecondFactorRequired(Unauthorized):
    message = "This account signs in with a one-time code from its authenticator app."


class InvalidSecondFactor(Unauthorized):
    message = "Wrong or already used one-time code."


class SecondFactorNotEnrolled(Forbidden):
    message = (
        "The console needs a second factor: enrol one with `parental admin enrol-totp`, "
        "then sign in again."
    )


class StaffSignInLocked(TooManyRequests):
    message = "Too many failed sign-ins for this account; wait and try again."


class StaffNotFound(NotFound):
    message = "No staff account with this username."
