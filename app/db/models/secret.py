"""Secrets: named values of a user's, stored only sealed (see ``interpreter.secret_box``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp

SECRET_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"
"""An identifier, so that ``{{ secrets.NAME }}`` can name it."""

MAX_SECRET_BYTES = 65_536


class SecretBase(SQLModel):
    """What every form of a secret has: a name that ``{{ secrets.NAME }}`` can use."""

    # schema_extra, not regex=: SQLModel does not enforce its regex argument.
    name: str = Field(min_length=1, max_length=100, schema_extra={"pattern": SECRET_NAME_PATTERN})


class SecretCreate(SecretBase):
    """Store ``value`` as ``name``, replacing the value of an existing secret of that name."""

    value: str = Field(min_length=1, max_length=MAX_SECRET_BYTES)


class Secret(SecretBase, table=True):
    """One of a user's secrets, its value sealed.

    Attributes:
        ciphertext: The value, sealed with the secrets key; only a worker opens it.
    """

    __tablename__ = "secrets"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_secrets_owner_name"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    name: str = Field(max_length=100)
    ciphertext: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class SecretPublic(SecretBase):
    """A secret as the API shows it: never its value."""

    created_at: datetime
    updated_at: datetime
