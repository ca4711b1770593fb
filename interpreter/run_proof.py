"""Run proofs: the API's signature that it started a run, which workers check before acting.

Anyone who can start a workflow on Temporal can write any :class:`RunInput`,
so a worker never takes the owner a run names on trust. The API signs what it
started (:class:`RunProof`: owner, workflow, version, run id and digests of
what runs) with HMAC-SHA256 under a key it shares with the workers and that
never enters a history; the workflow computes the :class:`ProofSubject` from
what it actually runs (its definition, input and ``workflow.info()``), and an
activity accepts the proof's owner only when the signature holds under one of
its keys and the proof matches the subject (:meth:`RunKeys.owner`).

What each digest covers:

- ``digest``: the definition the run executes (:func:`definition_digest`);
- ``root``: the top-level run's definition, input, reused outputs and (a test
  run) mocks (:func:`run_digest`), so a proof copied onto a run with another input, or a
  pinned ``sub_workflow`` proof moved under another parent, fails.

Child runs (for_each batches, sub_workflows) cannot be signed by the API
before they exist: the parent's workflow code hands its subject down
(``RunInput.lineage``), which a child believes only when Temporal says it has
a parent, since only FlowForge's workflow code starts interpreter children. A
batch carries its parent's proof; a sub_workflow the proof the API signed for
its pinned target (``PinnedWorkflow.proof``).

Schedules start runs with a fixed input under generated ids
(``<action id>-<fire time>``): their proof names the action id as a prefix
(``run_id_prefix``) and holds for any run id that starts with it and a dash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from interpreter.dsl.definition import Definition
from interpreter.errors import Unauthorized
from interpreter.secret_box import shared_key_file

KEY_FILE = "run_signing_key"
"""Where, under the data directory, a dev or test signing key is kept when none is configured."""

_KEY_BYTES = 32
_DOMAIN = b"flowforge run proof v1\0"

KEY_HELP = (
    "FLOWFORGE_RUN_SIGNING_KEY must be 32 random bytes in URL-safe base64 (44 characters), "
    'the same for the API and every worker; make one with: python -c "import base64, os; '
    'print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
)


class RunProof(BaseModel):
    """The API's signed statement that it started a run (or pinned a sub_workflow target for it).

    Attributes:
        owner: The user the run acts for.
        workflow_id: The FlowForge workflow whose definition runs.
        version: Its pinned version.
        run_id: The top-level run's Temporal workflow id; with ``run_id_prefix``
            the id every run of a schedule starts with.
        run_id_prefix: The proof holds for any run id ``<run_id>-...`` (schedules).
        digest: :func:`definition_digest` of the definition this proof covers.
        root: :func:`run_digest` of the top-level run.
        signature: HMAC-SHA256 of the fields above, URL-safe base64.
    """

    owner: str = Field(max_length=200)
    workflow_id: str = Field(max_length=200)
    version: int
    run_id: str = Field(max_length=1000)
    run_id_prefix: bool = False
    digest: str = Field(max_length=64)
    root: str = Field(max_length=64)
    signature: str = Field(default="", max_length=100)

    def signed_bytes(self) -> bytes:
        """What the signature covers: every field but the signature, canonically."""
        return _DOMAIN + canonical_json(self.model_dump(exclude={"signature"}))


class ProofSubject(BaseModel):
    """What a run is, as its workflow code computes it; a proof must match it.

    Attributes:
        run_id: The top-level run's Temporal workflow id.
        workflow_id: The FlowForge workflow the run says it executes (``RunMeta``).
        version: Its version (``RunMeta``).
        owner: The owner the run names (``RunMeta``).
        digest: :func:`definition_digest` of what runs (a batch: its parent's).
        root: :func:`run_digest` of the top-level run.
        problem: Why the run cannot be what its proof says, found by the
            workflow itself (e.g. a carried state on a run nothing continued).
    """

    run_id: str
    workflow_id: str
    version: int
    owner: str
    digest: str
    root: str
    problem: str | None = None


def canonical_json(value: Any) -> bytes:
    """``value`` as JSON with sorted keys and no spaces: the same bytes on API and workers."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def definition_digest(definition: Definition) -> str:
    """sha256 (hex) of ``definition``'s canonical JSON.

    Fields at their defaults are left out, so a release that adds a field with
    a default keeps the digests of running definitions.
    """
    dumped = definition.model_dump(mode="json", exclude_defaults=True)
    return hashlib.sha256(canonical_json(dumped)).hexdigest()


def run_digest(
    definition: Definition,
    input: Any,
    reuse: dict[str, Any],
    reuse_items: dict[str, Any] | None = None,
    test: Any = None,
) -> str:
    """sha256 (hex) of a top-level run's definition, input, reused outputs and test mocks.

    Reused item outputs count only when there are some, and ``test`` (a test
    run's mocks as JSON) only when given, so the digests of runs started
    before either existed stay the same: a mock's output flows downstream
    like an input, and a proof must not carry over to a run with other mocks.
    """
    content = {"definition": definition_digest(definition), "input": input, "reuse": reuse}
    if reuse_items:
        content["reuse_items"] = reuse_items
    if test is not None:
        content["test"] = test
    return hashlib.sha256(canonical_json(content)).hexdigest()


def parse_signing_key(text: str) -> bytes:
    """The 32 key bytes written as URL-safe base64 in ``text``.

    Raises:
        ValueError: ``text`` is not 32 bytes of URL-safe base64 (the message says
            how to make a key).
    """
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValueError(KEY_HELP) from None
    if len(key) != _KEY_BYTES:
        raise ValueError(KEY_HELP)
    return key


def _mac(key: bytes, data: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(key, data, hashlib.sha256).digest()).decode()


def _signature(key: bytes, proof: RunProof) -> str:
    return _mac(key, proof.signed_bytes())


class RunKeys:
    """The signing key and the previous keys still accepted.

    Args:
        current: Signs new proofs and verifies.
        previous: Only verify: proofs of runs started before a rotation.
    """

    def __init__(self, current: bytes, previous: Sequence[bytes] = ()) -> None:
        self._current = current
        self._keys = (current, *previous)

    def sign(self, proof: RunProof) -> RunProof:
        """``proof`` with its signature under the current key."""
        return proof.model_copy(update={"signature": _signature(self._current, proof)})

    def mac(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` under the current key, URL-safe base64.

        For other statements the API signs with the same keys (a redrive batch):
        the caller prefixes ``data`` with a domain of its own, so no such
        statement can pass for a run proof or the other way round.
        """
        return _mac(self._current, data)

    def holds(self, data: bytes, signature: str) -> bool:
        """Whether ``signature`` is :meth:`mac` of ``data`` under one of the keys."""
        expected = signature.encode()
        return any(hmac.compare_digest(_mac(key, data).encode(), expected) for key in self._keys)

    def owner(self, proof: RunProof | None, subject: ProofSubject | None) -> str:
        """The owner a run may act for: its proof's, once the proof holds for the subject.

        Raises:
            Unauthorized: naming why: no proof, a bad signature, or a proof
                for another run, definition, workflow or owner.
        """
        if proof is None or subject is None:
            raise Unauthorized(
                "the run carries no proof that the FlowForge API started it "
                "(runs started straight on Temporal may not act for an owner): "
                "start it through the API",
                details={"reason": "no_proof"},
            )
        if subject.problem:
            raise Unauthorized(subject.problem, details={"reason": "tampered"})
        expected = proof.signature.encode()
        if not any(
            hmac.compare_digest(_signature(key, proof).encode(), expected) for key in self._keys
        ):
            raise Unauthorized(
                "the run's proof has a bad signature: it was not signed with this worker's "
                "FLOWFORGE_RUN_SIGNING_KEY or any of FLOWFORGE_RUN_SIGNING_PREVIOUS_KEYS",
                details={"reason": "bad_signature"},
            )
        if proof.digest != subject.digest:
            raise Unauthorized(
                "the run's proof is for another definition than the one this run executes",
                details={"reason": "other_definition"},
            )
        if not _run_matches(proof, subject.run_id):
            shown = f"{proof.run_id}-*" if proof.run_id_prefix else proof.run_id
            raise Unauthorized(
                f"the run's proof is for another run ({shown!r}; this is {subject.run_id!r})",
                details={"reason": "other_run"},
            )
        if proof.root != subject.root:
            raise Unauthorized(
                f"the run's proof is for run {subject.run_id!r} with another input, reused "
                "outputs or parent than this run has",
                details={"reason": "other_input"},
            )
        claimed = (subject.workflow_id, subject.version, subject.owner)
        if (proof.workflow_id, proof.version, proof.owner) != claimed:
            raise Unauthorized(
                f"the run's proof is for workflow {proof.workflow_id} v{proof.version} of "
                "another owner than the run names",
                details={"reason": "other_workflow"},
            )
        return proof.owner


def _run_matches(proof: RunProof, run_id: str) -> bool:
    if proof.run_id_prefix:
        return run_id.startswith(proof.run_id + "-")
    return run_id == proof.run_id


def resolve_run_keys(
    configured: str, previous: Sequence[str], *, data_dir: str, allow_generated: bool
) -> RunKeys:
    """The configured keys, else (when ``allow_generated``) the one kept under ``data_dir``.

    Raises:
        ValueError: a configured key is malformed, or there is none and a
            generated one is not allowed.
    """
    older = [parse_signing_key(text) for text in previous]
    if configured:
        return RunKeys(parse_signing_key(configured), older)
    if not allow_generated:
        raise ValueError("FLOWFORGE_RUN_SIGNING_KEY must be set outside dev. " + KEY_HELP)
    generated = shared_key_file(
        Path(data_dir) / KEY_FILE,
        lambda: base64.urlsafe_b64encode(secrets.token_bytes(_KEY_BYTES)).decode(),
    )
    return RunKeys(parse_signing_key(generated), older)
