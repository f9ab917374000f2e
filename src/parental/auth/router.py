from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy.ext.asyncio import AsyncSession

from parental.auth import service
from parental.auth.dependencies import CurrentAccount
from parental.auth.errors import (
    InvalidAccessToken,
    InvalidRefreshToken,
    InvalidSignInCode,
    RefreshTokenReused,
    SignInLocked,
    SmsBudgetExhausted,
)
from parental.auth.models import Account
from parental.auth.schemas import (
    AccountRead,
    AccountUpdate,
    SignInCodeCreate,
    SignInCodeSent,
    TokenCreate,
    TokenPair,
    TokenRefresh,
)
from parental.deps import ClientIP, RuntimeDep, SessionDep
from parental.families import service as families
from parental.kit.errors import TooManyRequests, error_responses
from parental.kit.ratelimit import RateLimitUnavailable
from parental.sms.sender import SmsRejected, SmsUnavailable

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/sign-in-codes",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(
        TooManyRequests, SmsRejected, SmsUnavailable, SmsBudgetExhausted, RateLimitUnavailable
    ),
)
async def request_sign_in_code(
    body: SignInCodeCreate, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> SignInCodeSent:
    """Send a one-time sign-in code to a phone number by SMS."""
    await service.request_sign_in_code(
        session, runtime, phone=body.phone, locale=body.locale, ip=ip
    )
    return SignInCodeSent(
        expires_in=runtime.settings.sign_in_code_ttl_seconds,
        code_length=runtime.settings.sign_in_code_digits,
    )


@router.post(
    "/auth/tokens",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        InvalidSignInCode, TooManyRequests, SignInLocked, RateLimitUnavailable
    ),
)
async def create_tokens(
    body: TokenCreate, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> TokenPair:
    """Sign in with the code from the SMS: an access token and a refresh token."""
    issued = await service.sign_in_with_code(
        session, runtime, phone=body.phone, code=body.code, locale=body.locale, ip=ip
    )
    return TokenPair(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
    )


@router.post(
    "/auth/tokens/refresh",
    responses=error_responses(InvalidRefreshToken, RefreshTokenReused),
)
async def refresh_tokens(
    body: TokenRefresh, session: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> TokenPair:
    """Exchange a refresh token for a new pair; each refresh token works once."""
    issued = await service.refresh(session, runtime, refresh_token=body.refresh_token, ip=ip)
    return TokenPair(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
    )


@router.post("/auth/tokens/revoke", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_tokens(body: TokenRefresh, session: SessionDep, runtime: RuntimeDep) -> None:
    """Sign out: the refresh token and every token rotated from the same sign-in stop working."""
    await service.revoke(session, runtime, refresh_token=body.refresh_token)


@router.get("/me", responses=error_responses(InvalidAccessToken))
async def get_me(account: CurrentAccount, session: SessionDep) -> AccountRead:
    """The signed-in parent's account and family."""
    return await _account_read(session, account)


@router.patch("/me", responses=error_responses(InvalidAccessToken))
async def update_me(
    body: AccountUpdate, account: CurrentAccount, session: SessionDep
) -> AccountRead:
    """Change the language of texts sent to this parent."""
    if body.locale is not None:
        account.locale = body.locale
    return await _account_read(session, account)


async def _account_read(session: AsyncSession, account: Account) -> AccountRead:
    membership = await families.family_of(session, account)
    return AccountRead.model_validate(account).model_copy(
        update={"family_id": membership.family_id if membership else None}
    )
