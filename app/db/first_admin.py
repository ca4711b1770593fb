"""The first admin, from settings, so a fresh install can be logged into."""

from __future__ import annotations

import logging

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.users import create_user, get_user_by_username
from app.db.errors import AlreadyExists
from app.db.models.user import Role, UserCreate
from app.settings import Settings

logger = logging.getLogger(__name__)


async def ensure_first_admin(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Create the admin named by FLOWFORGE_ADMIN_USERNAME/PASSWORD if no such user exists.

    An existing user of that name is never changed (its password is not reset).
    A database that is down is logged, not fatal: the API starts and /readyz
    reports it; the admin is created on a later start.

    Raises:
        ValueError: the configured username or password breaks the user rules.
    """
    if not (settings.admin_username and settings.admin_password):
        return
    admin: UserCreate | None = None
    unusable: ValueError | None = None
    try:
        admin = UserCreate(
            username=settings.admin_username, password=settings.admin_password, role=Role.ADMIN
        )
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        unusable = ValueError(
            f"FLOWFORGE_ADMIN_USERNAME / FLOWFORGE_ADMIN_PASSWORD are not usable ({problems})"
        )
    try:
        async with sessions() as session:
            # An existing admin is left as it is, so a password set before
            # today's password rules keeps working.
            if await get_user_by_username(session=session, username=settings.admin_username):
                return
            if admin is None:
                raise unusable or ValueError("FLOWFORGE_ADMIN_* are not usable")
            await create_user(session=session, user_create=admin)
            logger.info("created admin user %r", settings.admin_username)
    except AlreadyExists:
        pass  # another API process created it at the same moment
    except (SQLAlchemyError, OSError) as exc:
        if unusable is not None:
            raise unusable from None
        logger.error("could not create the first admin: %s", exc)
