"""Delivering signals to the ``wait_for_signal`` nodes of a run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from app.api.deps import EditorUser, RunId, StateDep, TemporalDep
from app.runs.operator_schemas import SignalAccepted, SignalIn
from app.runs.updates import send_update
from interpreter.contract.client import SIGNAL_UPDATE
from interpreter.runtime.operator import SignalDelivery

router = APIRouter(prefix="/runs/{run_id}", tags=["runs"])

SignalName = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9_.-]{1,100}$",
        description="The ``signal`` a wait_for_signal node of the run waits for.",
    ),
]


@router.post("/signals/{name}", status_code=status.HTTP_202_ACCEPTED)
async def send_signal(
    run_id: RunId,
    name: SignalName,
    body: SignalIn,
    user: EditorUser,
    state: StateDep,
    temporal: TemporalDep,
) -> SignalAccepted:
    """Hand ``payload`` to the node(s) waiting for signal ``name``.

    The run checks it first: 422 (and the node keeps waiting) when no node of
    the run takes this signal or the payload breaks the node's ``schema``.
    """
    await send_update(
        temporal,
        state,
        run_id,
        user,
        update=SIGNAL_UPDATE,
        argument=SignalDelivery(name=name, payload=body.payload),
        result_type=dict[str, Any],
        what=f"signal {name!r}",
        refused_status=422,
    )
    return SignalAccepted(run_id=run_id, signal=name)
