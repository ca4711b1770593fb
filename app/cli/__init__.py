"""The ``flowforge`` command line: log in, manage users, store workflows, start and control runs."""
