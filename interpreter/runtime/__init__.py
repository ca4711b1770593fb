"""The workflow runtime: ``InterpreterWorkflow`` and everything it runs on.

- ``workflow``: the Temporal workflow: its signals, updates and queries.
- ``host``: run-level policy around the top DAG: pause, suspend, failure
  mode, continue-as-new.
- ``dag``: the DAG engine that runs one graph (the run, or one for_each item);
  it evaluates pure nodes and asks its host for everything else, the clock
  included, so it runs without Temporal too.
- ``scheduler``: edges, joins and skips, free of Temporal.
- ``book``: each node's status, attempts, times, output, error.
- ``scope``: the variables each expression may read.
- ``executor``: carries out the nodes that need Temporal: activity nodes
  itself, the others through their unit's ``execute`` (:mod:`interpreter.nodes`).
- ``activity_call``: an activity node's request, retry policy and options.
- ``for_each``: a for_each node's items, inline or in child-workflow batches.
- ``activity_errors``: what Temporal reports about an activity, as a node error.
- ``retry_policy``: a node's ``retry`` block as Temporal's RetryPolicy.
- ``operator``: payloads and checks of the operator updates (signal, retry, skip).

Nothing here is imported by the API except ``operator`` (update payloads).
"""
