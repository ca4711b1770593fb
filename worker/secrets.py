"""Reading a run owner's secrets from PostgreSQL, for the activities that use them.

Plain SQL through asyncpg (the worker does not import the app); values are
opened with the key the API sealed them with (``FLOWFORGE_SECRETS_KEY``).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from interpreter.secret_box import SecretBox

_SELECT = """
SELECT name, ciphertext FROM secrets
WHERE owner_id = $1 AND ($2::text[] IS NULL OR name = ANY($2::text[]))
"""


class PostgresSecrets:
    """A :class:`~interpreter.activities.secrets.SecretResolver` over the ``secrets`` table.

    Args:
        pool: A pool on the API's database: the worker's bounded one
            (:class:`worker.database.BoundedPool`), or any asyncpg pool.
        box: Opens the stored values.
    """

    def __init__(self, pool: Any, box: SecretBox) -> None:
        self._pool = pool
        self._box = box

    async def values(self, owner: str, names: Collection[str] | None) -> dict[str, str]:
        """The owner's named secrets (all if ``names`` is None); unknown names are left out.

        Raises:
            SecretUnreadable: a value was sealed with another key.
            StoreUnavailable: PostgreSQL did not answer within the bounded
                pool's timeouts, or is out of reach (retryable).
        """
        try:
            owner_id = uuid.UUID(owner)
        except ValueError:
            return {}  # only users own secrets; no user has this id
        wanted = None if names is None else sorted(names)
        rows = await self._pool.fetch(_SELECT, owner_id, wanted)
        return {
            row["name"]: self._box.open(str(owner_id), row["name"], bytes(row["ciphertext"]))
            for row in rows
        }
