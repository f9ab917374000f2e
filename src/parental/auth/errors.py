from __future__ import annotations

from parental.kit.errors import BadRequest, ServiceUnavailable, TooManyRequests, Unauthorized


class InvalidSignInCode(BadRequest):
    message = "The code is wrong, expired or already used; request a new one."
    keep_changes = True  # the failed attempt is counted


class SignInLocked(TooManyRequests):
    message = "Too many wrong codes for this phone or from this network; wait and try again."


class SmsBudgetExhausted(ServiceUnavailable):
    message = "The service has sent as many sign-in texts as it may today; try again later."

    def __init__(self, detail: str | None = None, *, retry_after: int = 3600):
        self.retry_after = max(1, retry_after)
        super().__init__(detail, headers={"Retry-After": str(self.retry_after)})


class InvalidAccessToken(Unauthorized):
    message = "The access token is missing, invalid or expired."


class InvalidRefreshToken(Unauthorized):
    message = "The refresh token is invalid, expired or revoked; sign in again."


class RefreshTokenReused(Unauthorized):
    message = "This refresh token was already used; every session from it is now signed out."
    keep_changes = True  # the chain stays revoked
