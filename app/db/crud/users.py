"""Users: creation, lookup, login, password changes and disabling."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.pages import Position, contains, newest_first
from app.db.crud.tokens import revoke_all_tokens
from app.db.errors import AlreadyExists
from app.db.models.user import Role, User, UserCreate
from app.security import hash_password_off_loop, verify_password_off_loop


async def _release(session: AsyncSession) -> None:
    """End the read transaction, handing its connection back to the pool.

    Hashing a password takes a good part of a second: holding a pooled
    connection meanwhile lets a burst of logins exhaust the pool (503s).
    Loaded objects stay usable (the sessions do not expire them on commit).
    """
    await session.commit()


async def create_user(*, session: AsyncSession, user_create: UserCreate) -> User:
    """Insert a user with a hashed password.

    Raises:
        AlreadyExists: the username is taken.
    """
    hashed = await hash_password_off_loop(user_create.password)
    user = User.model_validate(user_create, update={"hashed_password": hashed})
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise AlreadyExists(f"username {user_create.username!r} is taken: choose another") from None
    await session.refresh(user)
    return user


async def get_user(*, session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The user ``user_id``, active or not; None if there is none."""
    return await session.get(User, user_id)


async def get_user_by_username(*, session: AsyncSession, username: str) -> User | None:
    """The user named ``username``, active or not; None if there is none."""
    result = await session.exec(select(User).where(User.username == username))
    return result.first()


async def authenticate(*, session: AsyncSession, username: str, password: str) -> User | None:
    """The active user with these credentials, or None; upgrades an outdated hash."""
    user = await get_user_by_username(session=session, username=username)
    await _release(session)
    ok, new_hash = await verify_password_off_loop(password, user.hashed_password if user else None)
    if user is None or not ok or not user.is_active:
        return None
    if new_hash is not None:
        user.hashed_password = new_hash
        session.add(user)
        await session.commit()
        await session.refresh(user)
    return user


async def change_password(*, session: AsyncSession, user: User, password: str) -> User:
    """Set ``user``'s password and revoke every access token issued before; commits."""
    await _release(session)
    user.hashed_password = await hash_password_off_loop(password)
    revoke_all_tokens(user)
    session.add(user)
    await session.commit()
    await session.refresh(user)
    return user


async def list_users(
    *, session: AsyncSession, q: str | None, limit: int, after: Position | None
) -> Sequence[User]:
    """Up to ``limit`` users, newest first; with ``q``, those whose username contains it."""
    statement = select(User)
    if q:
        statement = statement.where(contains(User.username, q))
    result = await session.exec(newest_first(statement, User, after).limit(limit))
    return result.all()


async def update_user(
    *,
    session: AsyncSession,
    user: User,
    is_active: bool | None = None,
    role: Role | None = None,
    password: str | None = None,
) -> User:
    """Apply an admin's change; disabling or a new password revokes every access token; commits."""
    hashed = None
    if password is not None:
        await _release(session)  # before any change, so all of them commit together
        hashed = await hash_password_off_loop(password)
    if is_active is not None and is_active != user.is_active:
        user.is_active = is_active
        # Revoked on re-enabling too would be too late: a token from before
        # the disabling must not come back to life.
        revoke_all_tokens(user)
    if role is not None:
        # Roles are read from the database on each request: no token to revoke.
        user.role = role
    if hashed is not None:
        user.hashed_password = hashed
        revoke_all_tokens(user)
    session.add(user)
    await session.commit()
    await session.refresh(user)
    return user
