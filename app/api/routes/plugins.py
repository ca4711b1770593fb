"""Plugins: immutable versions of script code, owner-scoped, that script nodes name.

Each user has their own plugins; an admin reaches another user's with
``?owner_id=`` (as for secrets). A version, once published, never changes:
publish a new one, and deprecate the old so that ranges stop resolving to it.
"""

from __future__ import annotations

import ast
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from app.api.deps import SessionDep
from app.api.routes.secrets import ReadableOwner, WritableOwner
from app.db.crud import plugins as crud
from app.db.errors import AlreadyExists
from app.db.models.plugin import MAX_PLUGIN_CODE_CHARS, PLUGIN_NAME_PATTERN, Plugin
from app.errors import ApiError, ErrorItem
from app.plugins.versions import BadRange, parse_version
from interpreter.validation.configs import schema_issues

router = APIRouter(prefix="/plugins", tags=["plugins"])

NamePath = Annotated[str, Path(description="The plugin's name.")]
VersionPath = Annotated[str, Path(description="An exact version, such as 1.2.0.")]


class PluginCreate(BaseModel):
    """A new version of a plugin (the plugin itself is created by its first version)."""

    name: str = Field(pattern=PLUGIN_NAME_PATTERN, description="Lower case; a node names it.")
    version: str = Field(max_length=100, description="A semantic version: 1.2.0, 2.0.0-rc.1.")
    code: str = Field(min_length=1, max_length=MAX_PLUGIN_CODE_CHARS)
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    description: str = Field(default="", max_length=10_000)


class PluginVersion(BaseModel):
    """One version as listed: everything but its code and schemas."""

    name: str
    version: str
    description: str
    created_at: datetime
    deprecated_at: datetime | None


class PluginDetail(PluginVersion):
    """One version, whole."""

    code: str
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None


class PluginSummary(BaseModel):
    """A plugin: its newest current version and every version, newest first."""

    name: str
    latest: str | None = Field(description="The newest version not deprecated, if any.")
    versions: list[PluginVersion]


class PluginList(BaseModel):
    """The owner's plugins, by name."""

    items: list[PluginSummary]


class PluginChange(BaseModel):
    """What may change of a version: whether it is deprecated."""

    deprecated: bool


def _code_errors(code: str) -> list[ErrorItem]:
    """422 items unless ``code`` parses as Python and defines ``main`` at its top level."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        where = f" (line {exc.lineno}, column {exc.offset})" if exc.lineno else ""
        return [ErrorItem(path="/body/code", code="bad_code", message=f"{exc.msg}{where}")]
    if not any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "main"
        for node in tree.body
    ):
        message = "the code must define a function main(input) at its top level"
        return [ErrorItem(path="/body/code", code="bad_code", message=message)]
    return []


def _summaries(versions: list[Plugin]) -> list[PluginSummary]:
    by_name: dict[str, list[Plugin]] = {}
    for version in versions:
        by_name.setdefault(version.name, []).append(version)
    return [
        PluginSummary(
            name=name,
            latest=next((v.version for v in rows if v.deprecated_at is None), None),
            versions=[PluginVersion.model_validate(crud.public_fields(v)) for v in rows],
        )
        for name, rows in by_name.items()
    ]


@router.post("", status_code=status.HTTP_201_CREATED)
async def publish(owner: WritableOwner, session: SessionDep, body: PluginCreate) -> PluginDetail:
    """Publish a version: 409 if it exists (versions are immutable)."""
    errors = _code_errors(body.code)
    try:
        number = parse_version(body.version)
    except BadRange as bad:
        errors.append(ErrorItem(path="/body/version", code="bad_version", message=str(bad)))
        number = None
    for field in ("input_schema", "output_schema"):
        issues = schema_issues(getattr(body, field), f"/body/{field}")
        errors += [ErrorItem.model_validate(issue.model_dump()) for issue in issues]
    if errors or number is None:
        raise ApiError(422, f"the plugin is invalid ({len(errors)} problem(s))", errors=errors)
    plugin = Plugin(
        owner_id=owner,
        name=body.name,
        version=str(number),
        major=number.major,
        minor=number.minor,
        patch=number.patch,
        description=body.description,
        code=body.code,
        input_schema=body.input_schema,
        output_schema=body.output_schema,
    )
    try:
        stored = await crud.add_plugin(session=session, plugin=plugin)
    except AlreadyExists as exc:
        raise ApiError(409, str(exc)) from None
    return PluginDetail.model_validate(crud.public_fields(stored))


@router.get("")
async def list_plugins(owner: ReadableOwner, session: SessionDep) -> PluginList:
    """Every plugin of the owner, with its versions."""
    versions = list(await crud.plugin_versions(session=session, owner_id=owner))
    return PluginList(items=_summaries(versions))


@router.get("/{name}")
async def read_plugin(owner: ReadableOwner, session: SessionDep, name: NamePath) -> PluginSummary:
    """One plugin's versions, newest first."""
    versions = list(await crud.plugin_versions(session=session, owner_id=owner, name=name))
    if not versions:
        raise ApiError(404, f"plugin {name!r} not found")
    return _summaries(versions)[0]


async def _version(session: SessionDep, owner: Any, name: str, version: str) -> Plugin:
    found = await crud.get_plugin(session=session, owner_id=owner, name=name, version=version)
    if found is None:
        raise ApiError(404, f"plugin {name}@{version} not found")
    return found


@router.get("/{name}/versions/{version}")
async def read_version(
    owner: ReadableOwner, session: SessionDep, name: NamePath, version: VersionPath
) -> PluginDetail:
    """One version with its code and schemas."""
    found = await _version(session, owner, name, version)
    return PluginDetail.model_validate(crud.public_fields(found))


@router.patch("/{name}/versions/{version}")
async def change_version(
    owner: WritableOwner,
    session: SessionDep,
    name: NamePath,
    version: VersionPath,
    body: PluginChange,
) -> PluginDetail:
    """Deprecate a version (ranges stop resolving to it; pinned runs keep it), or undo that."""
    found = await _version(session, owner, name, version)
    changed = await crud.set_deprecated(session=session, plugin=found, deprecated=body.deprecated)
    return PluginDetail.model_validate(crud.public_fields(changed))
