"""What the API and the workflow agree on: the run input, its status, and how to reach it.

- ``run``: ``RunInput`` (the workflow's one versioned input) and ``RunSnapshot``.
- ``client``: the workflow type, signal, update and query names; ``start_run``.
- ``search_attributes``: the custom attributes runs are listed by.
"""
