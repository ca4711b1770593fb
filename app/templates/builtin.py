"""The built-in templates shipped in ``builtin/*.json``, written to the database at API start."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models.template import TemplateParameter, WorkflowTemplate

logger = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
# Fixed ids: every API process (and every start) writes the same rows.
_NAMESPACE = uuid.UUID("5b0f4e3a-4c1e-4d55-9a51-6c1a8a9d2f10")


def builtin_templates() -> list[WorkflowTemplate]:
    """Every shipped template, with its fixed id and checked parameters."""
    templates = []
    for path in sorted(BUILTIN_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        parameters = [TemplateParameter.model_validate(p) for p in data["parameters"]]
        templates.append(
            WorkflowTemplate(
                id=uuid.uuid5(_NAMESPACE, data["name"]),
                name=data["name"],
                description=data.get("description"),
                definition=data["definition"],
                parameters=[p.model_dump() for p in parameters],
                owner_id=None,
            )
        )
    return templates


async def seed_builtin_templates(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Insert the built-in templates, or bring existing rows up to date with the files.

    A database that is down is logged, not fatal (as for the first admin): the
    next start seeds them.
    """
    try:
        async with sessions() as session:
            for template in builtin_templates():
                values = template.model_dump()
                statement = insert(WorkflowTemplate).values(**values)
                updated = {
                    key: statement.excluded[key]
                    for key in ("name", "description", "definition", "parameters")
                }
                await session.exec(
                    statement.on_conflict_do_update(index_elements=["id"], set_=updated)
                )
            await session.commit()
    except (SQLAlchemyError, OSError) as exc:
        logger.error("could not write the built-in templates: %s", exc)
