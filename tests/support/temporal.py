"""Clients of the session's Temporal server."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.converter import DataConverter

from interpreter.contract.client import DATA_CONVERTER


def with_converter(client: Client, data_converter: DataConverter = DATA_CONVERTER) -> Client:
    """A client of the same server and namespace that converts payloads with ``data_converter``.

    The session's client uses the SDK's default converter; workers and starters of
    interpreter runs need the interpreter's (pydantic, with the payload codec).
    """
    config = client.config()
    config["data_converter"] = data_converter
    return Client(**config)
