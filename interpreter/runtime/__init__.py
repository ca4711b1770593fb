"""The workflow runtime: ``InterpreterWorkflow`` and everything it runs on.

- ``workflow``: the Temporal workflow: its signals, updates and queries.
- ``host``: run-level policy around the top DAG: pause, suspend, failure
  mode, continue-as-new.
- ``dag``: the DAG engine that runs one graph (the run, or one for_each item).
- ``scheduler``: edges, joins and skips, free of Temporal.
- ``book``: each node's status, attempts, times, output, error.
- ``scope``: the variables each expression may read.
- ``executor``: nodes that need Temporal (activities, timers, signals, children).
- ``for_each``: items inline or in child-workflow batches.
- ``activity_errors``: what Temporal reports about an activity, as a node error.
- ``retry_policy``: a node's ``retry`` block as Temporal's RetryPolicy.
- ``operator``: payloads and checks of the operator updates (signal, retry, skip).

Nothing here is imported by the API except ``operator`` (update payloads).
"""
