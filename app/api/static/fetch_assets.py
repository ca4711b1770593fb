"""Fetch the browser assets of ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from the npm registry.

The files are committed next to this script, so the API serves them from the
package and its documentation pages work offline. This script is how they got
there and how they are upgraded: change a version and its ``integrity`` (the
registry's ``dist.integrity`` of that version: ``npm view NAME@VERSION
dist.integrity``), run ``python app/api/static/fetch_assets.py``, and commit.
Each tarball is checked against its pinned integrity before anything is
extracted; ``VERSIONS.json`` records what came from where, with each file's
SHA-256 (``tests/app/test_docs_pages.py`` checks the files against it). The
files are the tarballs' own, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Package:
    """One npm package: its pinned version and integrity, and the files taken from it.

    Attributes:
        files: Path inside the tarball's ``package/`` -> path under this directory.
    """

    name: str
    version: str
    license: str
    integrity: str
    files: dict[str, str]

    @property
    def tarball(self) -> str:
        """The registry's URL of this version's tarball."""
        return f"{REGISTRY}/{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"


PACKAGES = (
    Package(
        name="swagger-ui-dist",
        version="5.35.0",
        license="Apache-2.0",
        integrity=(
            "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/"
            "h0wCDNsXdGarTNNHC3sU8yVUQ=="
        ),
        files={
            "swagger-ui-bundle.js": "swagger-ui/swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui/swagger-ui.css",
            "favicon-32x32.png": "swagger-ui/favicon-32x32.png",
            "LICENSE": "swagger-ui/LICENSE",
            "NOTICE": "swagger-ui/NOTICE",
        },
    ),
    Package(
        name="redoc",
        version="2.5.4",
        license="MIT",
        integrity=(
            "sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxH"
            "Fe2yFc4sNjHTrABQ=="
        ),
        files={
            "bundles/redoc.standalone.js": "redoc/redoc.standalone.js",
            "LICENSE": "redoc/LICENSE",
        },
    ),
)


def _check_integrity(package: Package, data: bytes) -> None:
    algorithm, _, expected = package.integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise SystemExit(f"{package.name}@{package.version}: tarball integrity mismatch")


def fetch(package: Package) -> dict[str, object]:
    """Download, check and extract one package; its entry for ``VERSIONS.json``."""
    with urllib.request.urlopen(package.tarball, timeout=60) as response:
        data = response.read()
    _check_integrity(package, data)
    hashes: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for inner, target in package.files.items():
            member = archive.extractfile(f"package/{inner}")
            if member is None:
                raise SystemExit(f"{package.name}@{package.version} has no {inner}")
            content = member.read()
            path = HERE / target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            hashes[target] = hashlib.sha256(content).hexdigest()
    return {
        "name": package.name,
        "version": package.version,
        "license": package.license,
        "tarball": package.tarball,
        "integrity": package.integrity,
        "files": hashes,
    }


def main() -> None:
    """Fetch every package and write ``VERSIONS.json``."""
    entries = [fetch(package) for package in PACKAGES]
    (HERE / "VERSIONS.json").write_text(json.dumps(entries, indent=2) + "\n")
    for entry in entries:
        print(f"{entry['name']}@{entry['version']} ({entry['license']})", file=sys.stderr)


if __name__ == "__main__":
    main()
