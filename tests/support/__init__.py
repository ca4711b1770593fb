"""Helpers the tests share, one module per job; test modules import only from here.

- ``eventually``: wait for asynchronous state with a deadline.
- ``peer``: a scripted HTTP server on 127.0.0.1.
- ``temporal``: the session's Temporal server and clients of it.
- ``workflows``: run inputs, an interpreter worker, a run's live state.
- ``activities``: node activities in the activity harness, stand-in stores.
- ``api``: the app in-process: settings, actors, definitions, runs.
- ``settings``: the environment variables a Settings class reads.
- ``tls``: a throwaway CA and server certificate.
- ``postgres``: a PostgreSQL server of a test's own, which it may stop and resume.
"""
