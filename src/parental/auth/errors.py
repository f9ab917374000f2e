from __future__ import annotations

from parental.kit.errors import BadRequest, Unauthorized


class InvalidSignInCode(BadRequest):
    message = "The code is wrong, expired or already used; request a new one."
    keep_changes = True  # the failed attempt is counted


class InvalidAccessToken(Unauthorized):
    message = "The access token is missing, invalid or expired."


class InvalidRefreshToken(Unauthorized):
    message = "The refresh token is invalid, expired or revoked; sign in again."


class RefreshTokenReused(Unauthorized):
    message = "This refresh token was already used; every session from it is now signed out."
    keep_changes = True  # the chain stays revoked
