"""Run proofs as pure logic: what a signature covers, which keys verify, where dev keeps its key."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings
from interpreter.contract.run import ItemReuse, RunInput, RunMeta
from interpreter.dsl.definition import Definition
from interpreter.errors import Unauthorized
from interpreter.run_proof import (
    KEY_FILE,
    ProofSubject,
    RunKeys,
    RunProof,
    definition_digest,
    parse_signing_key,
    run_digest,
)
from worker.settings import WorkerSettings

pytestmark = pytest.mark.fast

DEFINITION = Definition.model_validate(
    {"name": "d", "nodes": [{"id": "a", "type": "transform", "config": {"value": 1}}]}
)


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def keys(text: str, *previous: str) -> RunKeys:
    return RunKeys(parse_signing_key(text), [parse_signing_key(p) for p in previous])


def claims(run_id: str = "run-1", *, prefix: bool = False) -> RunProof:
    return RunProof(
        owner="u",
        workflow_id="w",
        version=1,
        run_id=run_id,
        run_id_prefix=prefix,
        digest=definition_digest(DEFINITION),
        root=run_digest(DEFINITION, {"n": 1}, {}),
    )


def subject(**changes: object) -> ProofSubject:
    values: dict[str, object] = {
        "run_id": "run-1",
        "workflow_id": "w",
        "version": 1,
        "owner": "u",
        "digest": definition_digest(DEFINITION),
        "root": run_digest(DEFINITION, {"n": 1}, {}),
    }
    return ProofSubject.model_validate({**values, **changes})


def reason(check: RunKeys, proof: RunProof | None, of: ProofSubject) -> str:
    with pytest.raises(Unauthorized) as refused:
        check.owner(proof, of)
    return str(refused.value.details["reason"])


def test_a_signed_proof_gives_its_owner_and_every_change_is_refused() -> None:
    key = keys(new_key())
    proof = key.sign(claims())

    assert key.owner(proof, subject()) == "u"
    assert reason(key, None, subject()) == "no_proof"
    assert reason(key, proof.model_copy(update={"owner": "v"}), subject()) == "bad_signature"
    assert reason(key, proof, subject(digest="0" * 64)) == "other_definition"
    assert reason(key, proof, subject(run_id="run-2")) == "other_run"
    other_input = run_digest(DEFINITION, {"n": 2}, {})
    assert reason(key, proof, subject(root=other_input)) == "other_input"
    assert reason(key, proof, subject(owner="v")) == "other_workflow"
    assert reason(key, proof, subject(problem="forged carry")) == "tampered"


def test_previous_keys_verify_but_only_the_current_one_signs() -> None:
    old, new = new_key(), new_key()
    before = keys(old).sign(claims())
    rotated = keys(new, old)

    assert rotated.owner(before, subject()) == "u"
    assert rotated.sign(claims()).signature != before.signature
    assert reason(keys(new), before, subject()) == "bad_signature"


def test_a_schedule_proof_holds_for_the_ids_its_runs_get() -> None:
    key = keys(new_key())
    proof = key.sign(claims("run-sched-1", prefix=True))

    assert key.owner(proof, subject(run_id="run-sched-1-2030-01-01T03:00:00Z")) == "u"
    assert reason(key, proof, subject(run_id="run-sched-1")) == "other_run"
    assert reason(key, proof, subject(run_id="run-sched-10-x")) == "other_run"


def test_the_digest_ignores_defaults_and_survives_a_round_trip() -> None:
    explicit = Definition.model_validate({**DEFINITION.model_dump(), "on_failure": "fail"})
    again = Definition.model_validate_json(DEFINITION.model_dump_json())

    assert definition_digest(explicit) == definition_digest(DEFINITION)
    assert definition_digest(again) == definition_digest(DEFINITION)
    other = Definition.model_validate({**DEFINITION.model_dump(), "on_failure": "continue"})
    assert definition_digest(other) != definition_digest(DEFINITION)


def test_dev_keeps_one_key_for_the_api_and_the_workers(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    api = Settings(environment="dev", data_dir=data_dir).run_keys()
    worker = WorkerSettings(environment="dev", data_dir=data_dir).run_keys()

    assert worker.owner(api.sign(claims()), subject()) == "u"
    assert (tmp_path / "data" / KEY_FILE).stat().st_mode & 0o777 == 0o600


def test_prod_refuses_to_start_without_a_key_and_bad_keys_stop_startup(tmp_path: Path) -> None:
    secrets_key = new_key()
    with pytest.raises(ValidationError, match="FLOWFORGE_RUN_SIGNING_KEY must be set"):
        Settings(
            environment="prod", jwt_secret="j" * 40, secrets_key=secrets_key, data_dir=str(tmp_path)
        )
    with pytest.raises(ValidationError, match="FLOWFORGE_RUN_SIGNING_KEY must be set"):
        WorkerSettings(
            environment="prod", secrets_key=secrets_key, DATABASE_URL="postgresql://db/flowforge"
        )
    with pytest.raises(ValidationError, match="32 random bytes"):
        WorkerSettings(run_signing_key="short")
    with pytest.raises(ValidationError, match="FLOWFORGE_RUN_SIGNING_PREVIOUS_KEYS"):
        WorkerSettings(run_signing_previous_keys=[new_key(), "nope"])
    assert list(tmp_path.iterdir()) == []


def test_the_root_digest_covers_reused_items_and_keeps_older_runs_digests() -> None:
    run = RunInput(definition=DEFINITION, input={"n": 1}, meta=RunMeta(workflow_id="w", version=1))
    assert run.root_digest() == run_digest(DEFINITION, {"n": 1}, {})
    given = ItemReuse(total=2, digest="d", outputs={0: "a"})
    redrive = run.model_copy(update={"reuse_items": {"each": given}})
    changed = given.model_copy(update={"outputs": {0: "b"}})
    assert redrive.root_digest() != run.root_digest()
    assert (
        redrive.root_digest()
        != run.model_copy(update={"reuse_items": {"each": changed}}).root_digest()
    )
    again = RunInput.model_validate_json(redrive.model_dump_json())
    assert again.root_digest() == redrive.root_digest()
