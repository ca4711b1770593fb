"""Users and their roles."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import field_validator, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import CheckConstraint, String
from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp
from app.security import PASSWORD_MIN_LENGTH, password_problem

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$"


class Role(StrEnum):
    """What a user may do.

    ``viewer`` reads its own objects; ``editor`` also defines, triggers and
    controls its own workflows and runs; ``admin`` may do everything to all.
    """

    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class UserBase(SQLModel):
    """What every form of a user has: a username and a role."""

    # schema_extra, not regex=: SQLModel does not enforce its regex argument.
    username: str = Field(min_length=3, max_length=64, schema_extra={"pattern": USERNAME_PATTERN})
    role: Role = Role.VIEWER


def checked_new_password(password: str) -> str:
    """``password`` if it may be chosen as a new one.

    Raises:
        PydanticCustomError: ``weak_password``, saying why (too short or too common).
    """
    problem = password_problem(password)
    if problem is not None:
        raise PydanticCustomError("weak_password", problem)
    return password


class UserCreate(UserBase):
    """A new user: a username no one has, a role (``viewer`` if omitted) and a password.

    The password has at least 12 characters and is not a common one.
    """

    password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=128)

    _check_password = field_validator("password")(checked_new_password)


class User(UserBase, table=True):
    """A user, the password kept only as a hash.

    Attributes:
        is_active: An inactive user can neither log in nor use an access token or API key.
        tokens_valid_after: Access tokens issued before this are revoked (set
            by a password change and by disabling the user).
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'editor', 'viewer')", name="ck_users_role"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    # A string column (not a PostgreSQL enum type) so adding a role is a data change.
    role: Role = Field(default=Role.VIEWER, sa_type=String(16))
    hashed_password: str = Field(max_length=255)
    is_active: bool = True
    created_at: datetime = timestamp()
    tokens_valid_after: datetime | None = timestamp(nullable=True)


class UserPublic(UserBase):
    """A user as the API shows it (never the password hash)."""

    id: uuid.UUID
    is_active: bool
    created_at: datetime


class PasswordChange(SQLModel):
    """A user's new password, given with the current one."""

    current_password: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=128)

    _check_password = field_validator("password")(checked_new_password)


class UserRegister(SQLModel):
    """A new account asked for by its own user: a username no one has and a password.

    The role is the server's choice (``FLOWFORGE_REGISTRATION_ROLE``), never the caller's.
    """

    username: str = Field(min_length=3, max_length=64, schema_extra={"pattern": USERNAME_PATTERN})
    password: str = Field(min_length=PASSWORD_MIN_LENGTH, max_length=128)

    _check_password = field_validator("password")(checked_new_password)


class UserUpdate(SQLModel):
    """What an admin changes about a user; fields left out stay as they are.

    Attributes:
        is_active: False disables the user (and revokes their tokens); true enables them.
        disabled: The same switch the other way round (``disabled: true`` is
            ``is_active: false``); give one of the two.
        role: The user's new role; takes effect on their next request.
        password: A new password for the user; revokes every token issued before.
    """

    is_active: bool | None = None
    disabled: bool | None = None
    role: Role | None = None
    password: str | None = Field(default=None, min_length=PASSWORD_MIN_LENGTH, max_length=128)

    _check_password = field_validator("password")(
        lambda value: None if value is None else checked_new_password(value)
    )

    @model_validator(mode="after")
    def _one_switch(self) -> UserUpdate:
        if (
            self.is_active is not None
            and self.disabled is not None
            and self.is_active == self.disabled
        ):
            raise PydanticCustomError(
                "contradictory", "is_active and disabled disagree: give only one of them"
            )
        return self

    def active(self) -> bool | None:
        """Whether the user is to be active, if this update says."""
        if self.disabled is not None:
            return not self.disabled
        return self.is_active
