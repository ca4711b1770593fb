"""Every table, imported here so ``SQLModel.metadata`` (and Alembic) sees them all."""

from __future__ import annotations

from app.db.models.api_key import ApiKey
from app.db.models.attempt import NodeAttempt
from app.db.models.circuit_breaker import CircuitBreaker
from app.db.models.delivery import WebhookDelivery
from app.db.models.hook import WebhookHook, WebhookHookReplay
from app.db.models.login_attempt import LoginAttempt
from app.db.models.plugin import Plugin
from app.db.models.quota import RunStartWindow
from app.db.models.revoked_token import RevokedToken
from app.db.models.run import RunDismissal, RunRecord
from app.db.models.secret import Secret
from app.db.models.template import WorkflowTemplate
from app.db.models.user import Role, User
from app.db.models.workflow import Workflow, WorkflowVersion

__all__ = [
    "ApiKey",
    "CircuitBreaker",
    "LoginAttempt",
    "NodeAttempt",
    "Plugin",
    "RevokedToken",
    "Role",
    "RunDismissal",
    "RunRecord",
    "RunStartWindow",
    "Secret",
    "User",
    "WebhookDelivery",
    "WebhookHook",
    "WebhookHookReplay",
    "Workflow",
    "WorkflowTemplate",
    "WorkflowVersion",
]
