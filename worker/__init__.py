"""The worker process: runs ``InterpreterWorkflow`` and the node activities on a task queue."""
