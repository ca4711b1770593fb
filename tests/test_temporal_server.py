"""A Temporal server the suite reuses gets the search attributes runs are listed by."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from interpreter.contract import search_attributes
from tests.support.temporal import register_search_attributes


@pytest.fixture
async def bare(temporal_client: Client) -> Client:
    """A client of a new namespace on the session's server: no custom search attributes."""
    namespace = f"bare-{uuid.uuid4().hex[:10]}"
    request = RegisterNamespaceRequest(
        namespace=namespace, workflow_execution_retention_period=Duration(seconds=86400)
    )
    # A busy dev server may answer "operation was canceled" (CANCELLED) while it
    # registers the namespace anyway; a retry then finds it already there.
    for attempt in range(5):
        try:
            await temporal_client.workflow_service.register_namespace(request)
            break
        except RPCError as error:
            if error.status == RPCStatusCode.ALREADY_EXISTS and attempt:
                break
            if error.status != RPCStatusCode.CANCELLED or attempt == 4:
                raise
            await asyncio.sleep(0.5)
    config = temporal_client.config()
    config["namespace"] = namespace
    return Client(**config)


async def attributes(client: Client) -> dict[str, int]:
    answer = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    return dict(answer.custom_attributes)


async def test_missing_attributes_are_registered_once(bare: Client) -> None:
    assert await attributes(bare) == {}

    await register_search_attributes(bare)
    await register_search_attributes(bare)

    assert await attributes(bare) == {
        key.name: key.indexed_value_type.value for key in search_attributes.ALL
    }


async def test_an_attribute_of_another_type_is_refused_by_name(bare: Client) -> None:
    await bare.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=bare.namespace,
            search_attributes={
                search_attributes.STATUS.name: IndexedValueType.INDEXED_VALUE_TYPE_INT
            },
        )
    )

    with pytest.raises(
        RuntimeError, match="FlowForgeStatus is INT on the Temporal server, not KEYWORD"
    ):
        await register_search_attributes(bare)
