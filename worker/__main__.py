"""``python -m worker``: one worker process (see :mod:`worker.main`)."""

from worker.main import main

main()
