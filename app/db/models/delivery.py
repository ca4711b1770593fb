"""Webhook delivery attempts, written by the worker and read by the run detail API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from app.db.models.common import timestamp

MAX_DELIVERY_ERROR_CHARS = 2000
"""The worker cuts an attempt's error message to this many characters."""


class WebhookDelivery(SQLModel, table=True):
    """One attempt of one ``webhook`` node's delivery.

    The worker inserts rows with plain SQL (it does not import the app), so
    there is no foreign key to ``runs``: runs started by schedules have no row
    there, and their deliveries are still recorded.

    Attributes:
        delivery_id: The ``X-Delivery-Id`` sent; the same on every attempt.
        node_path: The node's path in the run (differs from ``node_id`` inside
            ``for_each`` bodies).
        status: The HTTP status answered; None if no response came.
        error_type: The error class; None if delivered.
        at: When the attempt started.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_run_node", "run_id", "node_id"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True)
    )
    delivery_id: str = Field(max_length=64)
    run_id: str = Field(max_length=200)
    node_id: str = Field(max_length=63)
    node_path: str = Field(sa_type=Text)
    attempt: int = Field(ge=1)
    url: str = Field(max_length=8192)
    status: int | None = None
    error_type: str | None = Field(default=None, max_length=100)
    error: str | None = Field(default=None, max_length=MAX_DELIVERY_ERROR_CHARS)
    latency_ms: float = Field(ge=0)
    at: datetime = timestamp()
