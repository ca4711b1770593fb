"""Node types: one unit per type (its config, save-time extras and how it runs), one registry.

- ``kind``: :class:`NodeKind`, what a node type is, and the contract between the
  units and the runtime (:class:`NodeHost`, :class:`NodeDag`, :class:`Outcome`,
  :class:`NodeDone`, :class:`NodeFailed`).
- ``registry``: every type by name (:func:`kind_of`), and :func:`walk` over a
  definition's nodes, nested DAGs included.
- pure units, evaluated in the workflow task: ``transform`` (``set``),
  ``condition``, ``switch``, ``fail``, ``succeed``;
- units that need Temporal: ``wait`` (a timer), ``wait_for_signal``,
  ``sub_workflow`` (a child run), ``for_each`` (a sub-DAG per item);
- activity units, each naming its activity and its config model in
  :mod:`interpreter.activities`: ``http``, ``webhook``, ``script``, ``log``
  (``echo``), ``validate``.
"""

from __future__ import annotations

from interpreter.nodes.condition import CONDITION, ConditionConfig
from interpreter.nodes.fail import FAIL, FailConfig
from interpreter.nodes.for_each import FOR_EACH, ForEachBody, ForEachConfig
from interpreter.nodes.http import HTTP
from interpreter.nodes.kind import (
    NodeDag,
    NodeDone,
    NodeFailed,
    NodeHost,
    NodeKind,
    Outcome,
    SubDag,
    SubDagField,
    Variables,
    is_template,
)
from interpreter.nodes.log import LOG
from interpreter.nodes.registry import KINDS, Placed, kind_of, known_types, walk
from interpreter.nodes.script import SCRIPT
from interpreter.nodes.sub_workflow import SUB_WORKFLOW, SubWorkflowConfig
from interpreter.nodes.succeed import SUCCEED, SucceedConfig
from interpreter.nodes.switch import SWITCH, SwitchCase, SwitchConfig
from interpreter.nodes.transform import TRANSFORM, TransformConfig
from interpreter.nodes.validate import VALIDATE
from interpreter.nodes.wait import WAIT, WaitConfig
from interpreter.nodes.wait_for_signal import WAIT_FOR_SIGNAL, WaitForSignalConfig
from interpreter.nodes.webhook import WEBHOOK

__all__ = [
    "CONDITION",
    "FAIL",
    "FOR_EACH",
    "HTTP",
    "KINDS",
    "LOG",
    "SCRIPT",
    "SUB_WORKFLOW",
    "SUCCEED",
    "SWITCH",
    "TRANSFORM",
    "VALIDATE",
    "WAIT",
    "WAIT_FOR_SIGNAL",
    "WEBHOOK",
    "ConditionConfig",
    "FailConfig",
    "ForEachBody",
    "ForEachConfig",
    "NodeDag",
    "NodeDone",
    "NodeFailed",
    "NodeHost",
    "NodeKind",
    "Outcome",
    "Placed",
    "SubDag",
    "SubDagField",
    "SubWorkflowConfig",
    "SucceedConfig",
    "SwitchCase",
    "SwitchConfig",
    "TransformConfig",
    "Variables",
    "WaitConfig",
    "WaitForSignalConfig",
    "is_template",
    "kind_of",
    "known_types",
    "walk",
]
