"""Each engine's own environment under the cache dir, never FlowForge's dependencies.

``.bench/<engine>/`` is a venv with that engine's requirements, installed once
(a stamp file records what was installed; a changed requirement reinstalls).
The Restate server comes from the npm registry (``@restatedev/restate-server``
ships the binary in a per-platform package) into ``.bench/restate-server/``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".bench"
RESTATE_SERVER_PACKAGE = "@restatedev/restate-server@1"


@dataclass(frozen=True)
class Environment:
    path: Path

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"


def flowforge_environment() -> Environment:
    """The environment this runner runs in: FlowForge's own."""
    return Environment(Path(sys.prefix))


def ensure_venv(name: str, requirements: tuple[str, ...], cache: Path = CACHE) -> Environment:
    """``cache/name`` with ``requirements`` installed; pip's output goes to ``install.log``."""
    env = Environment(cache / name)
    stamp = env.path / ".installed"
    wanted = "\n".join(requirements) + "\n"
    if stamp.exists() and stamp.read_text() == wanted and env.python.exists():
        return env
    print(f"installing {name} into {env.path} (once): {' '.join(requirements)}", flush=True)
    if not env.python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(env.path)], check=True)
    log = env.path / "install.log"
    with log.open("w") as out:
        done = subprocess.run(
            [str(env.python), "-m", "pip", "install", "--progress-bar", "off", *requirements],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if done.returncode:
        raise RuntimeError(f"pip could not install {name}'s requirements: see {log}")
    stamp.write_text(wanted)
    return env


def ensure_restate_server(cache: Path = CACHE) -> Path:
    """The restate-server binary from the npm registry; RuntimeError saying why if not had."""
    where = cache / "restate-server"
    binary = where / "node_modules" / ".bin" / "restate-server"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed, so the Restate server cannot be fetched")
    where.mkdir(parents=True, exist_ok=True)
    print(f"installing {RESTATE_SERVER_PACKAGE} into {where} (once)", flush=True)
    log = where / "install.log"
    with log.open("w") as out:
        done = subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(where),
                RESTATE_SERVER_PACKAGE,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if done.returncode or not binary.exists():
        raise RuntimeError(f"npm could not install {RESTATE_SERVER_PACKAGE}: see {log}")
    return binary
