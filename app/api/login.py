"""The one way the API checks a password: throttled per username and per client address.

``POST /auth/token`` and the codec's sign-in both log in through
:func:`throttled_login`. An unknown username is counted, locked and checked
(against a dummy hash) exactly like a known one, so neither the answers nor
their timing tell whether a user exists.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.state import AppState
from app.db.crud.login_attempts import ThrottlePolicy, attempt_succeeded, begin_attempt
from app.db.crud.users import authenticate
from app.db.models.login_attempt import AttemptKind
from app.db.models.user import User
from app.errors import ApiError
from app.settings import Settings

TOO_MANY_ATTEMPTS = {
    "description": "Too many failed logins for this username or client address: retry "
    "after the `Retry-After` seconds"
}
"""The OpenAPI entry of the 429 every login route may answer."""


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    """The login throttle the settings describe."""
    return ThrottlePolicy(
        free_attempts={
            AttemptKind.USERNAME: settings.login_free_attempts,
            AttemptKind.ADDRESS: settings.login_address_free_attempts,
        },
        delay=settings.login_delay_seconds,
        max_delay=settings.login_max_delay_seconds,
        forget_after=timedelta(hours=settings.login_forget_after_hours),
    )


async def throttled_login(
    request: Request, state: AppState, session: AsyncSession, username: str, password: str
) -> User | None:
    """The active user with these credentials, or None; throttled.

    Raises:
        ApiError: 429 with ``Retry-After`` while the username or the client's
            address is locked after too many failures.
    """
    user_key = (AttemptKind.USERNAME, username)
    # The peer address as the server sees it: behind a proxy, uvicorn's
    # --proxy-headers (with --forwarded-allow-ips) makes it the client's.
    address_key = (AttemptKind.ADDRESS, request.client.host if request.client else "unknown")
    wait = await begin_attempt(
        session=session,
        policy=throttle_policy(state.settings),
        keys=[user_key, address_key],
    )
    if wait:
        raise ApiError(
            429,
            f"too many failed logins for this username or address: retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    user = await authenticate(session=session, username=username, password=password)
    if user is not None:
        await attempt_succeeded(session=session, username=user_key, others=[address_key])
    return user


async def throttled_registration(request: Request, state: AppState, session: AsyncSession) -> None:
    """Count a self-registration against the client's address.

    Each one counts, succeeded or not; past ``FLOWFORGE_REGISTRATION_FREE_PER_ADDRESS``
    each further one waits a growing delay, like failed logins.

    Raises:
        ApiError: 429 with ``Retry-After`` while the address is locked.
    """
    settings = state.settings
    policy = ThrottlePolicy(
        free_attempts={AttemptKind.ADDRESS: settings.registration_free_per_address},
        delay=settings.login_delay_seconds,
        max_delay=settings.login_max_delay_seconds,
        forget_after=timedelta(hours=settings.login_forget_after_hours),
    )
    # Its own counter: registering is not a failed login, and must not lock logins out.
    host = request.client.host if request.client else "unknown"
    wait = await begin_attempt(
        session=session, policy=policy, keys=[(AttemptKind.ADDRESS, f"register {host}")]
    )
    if wait:
        raise ApiError(
            429,
            f"too many accounts registered from this address: retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
