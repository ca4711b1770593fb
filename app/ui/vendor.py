"""Fetch the dashboard's browser libraries from the npm registry into ``app/ui/static/vendor/``.

Run ``python -m app.ui.vendor`` to refresh them (needs the network); the files it
writes are committed, so serving and testing the dashboard never needs it. Each
library is pinned to a version and the sha512 the registry publishes for its
tarball; a tarball whose digest differs is refused. ``vendor/VENDORED.json``
records what was taken from where, with its licence.

ES module builds are taken where the package has one (jsdiff ships its
ESM build as many files, so its one-file UMD build is taken instead).
``preact/hooks`` imports the bare specifier ``preact``, which a browser
resolves only through an import map (an inline script, which the dashboard's
CSP forbids), so that one import is rewritten to the relative file next to it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
VENDOR = Path(__file__).parent / "static" / "vendor"
ALLOWED_LICENCES = frozenset({"MIT", "BSD-2-Clause", "BSD-3-Clause", "ISC"})


@dataclass(frozen=True)
class Package:
    """One pinned npm package and the files the dashboard takes from it.

    Attributes:
        name: The npm name.
        version: The exact version.
        integrity: The registry's ``dist.integrity`` (``sha512-...``) of the tarball.
        files: Path in the tarball (under ``package/``) → file name under vendor/.
        rewrites: File name → (text, replacement) pairs applied after extraction.
    """

    name: str
    version: str
    integrity: str
    files: dict[str, str]
    rewrites: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def tarball(self, registry: str = REGISTRY) -> str:
        """The tarball's URL in ``registry``."""
        base = self.name.rsplit("/", 1)[-1]
        return f"{registry}/{self.name}/-/{base}-{self.version}.tgz"


PACKAGES = [
    Package(
        name="preact",
        version="10.29.8",
        integrity="sha512-ej2aVZ+vZ8WO7tvlQWRM9N63A0KzF9q4mWJfDUHgYaIofWY9hu74QdnQrjoPMmZi2/nZ5gN0bJCQF49xQqx09Q==",
        files={
            "dist/preact.mjs": "preact.mjs",
            "hooks/dist/hooks.mjs": "preact-hooks.mjs",
            "LICENSE": "preact.LICENSE",
        },
        rewrites={"preact-hooks.mjs": [('from"preact"', 'from"./preact.mjs"')]},
    ),
    Package(
        name="@dagrejs/dagre",
        version="3.1.3",
        integrity="sha512-X4aUTwOReZvthaZWOVHqlJ52/ZdhZFEM4+Lh/uR4XooUSLE6p71bcy7MPGzYnNUcNh+nj+i/qJQpCMIdQnSmrg==",
        files={"dist/dagre.esm.js": "dagre.esm.js", "LICENSE": "dagre.LICENSE"},
    ),
    Package(
        name="diff",
        version="9.0.0",
        integrity="sha512-svtcdpS8CgJyqAjEQIXdb3OjhFVVYjzGAPO8WGCmRbrml64SPw/jJD4GoE98aR7r25A0XcgrK3F02yw9R/vhQw==",
        # The UMD build, loaded as a classic script: it defines ``window.Diff``.
        files={"dist/diff.min.js": "diff.min.js", "LICENSE": "diff.LICENSE"},
    ),
    Package(
        name="uplot",
        version="1.6.32",
        integrity="sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==",
        files={
            "dist/uPlot.esm.js": "uPlot.esm.js",
            "dist/uPlot.min.css": "uPlot.min.css",
            "LICENSE": "uplot.LICENSE",
        },
    ),
]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        data: bytes = response.read()
    return data


def _metadata(package: Package, registry: str) -> dict[str, object]:
    meta: dict[str, object] = json.loads(_get(f"{registry}/{package.name}/{package.version}"))
    return meta


def _check_integrity(package: Package, tarball: bytes, published: str) -> str:
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if digest != package.integrity or digest != published:
        raise SystemExit(
            f"{package.name}@{package.version}: tarball digest {digest} != {package.integrity}"
        )
    return digest


def vendor(package: Package, target: Path = VENDOR, registry: str = REGISTRY) -> dict[str, object]:
    """Fetch, check and extract ``package`` into ``target``; what VENDORED.json records of it."""
    meta = _metadata(package, registry)
    licence = str(meta.get("license"))
    if licence not in ALLOWED_LICENCES:
        raise SystemExit(f"{package.name}: licence {licence} is not MIT, BSD or ISC")
    dist = meta["dist"]
    assert isinstance(dist, dict)
    tarball = _get(package.tarball(registry))
    digest = _check_integrity(package, tarball, str(dist["integrity"]))
    written: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for source, name in package.files.items():
            try:
                member = archive.extractfile(f"package/{source}")
            except KeyError:
                member = None
            if member is None:
                raise SystemExit(f"{package.name}: no {source} in the tarball")
            text = member.read().decode()
            for old, new in package.rewrites.get(name, []):
                if old not in text:
                    raise SystemExit(f"{package.name}: {name} has no {old!r} to rewrite")
                text = text.replace(old, new)
            target.mkdir(parents=True, exist_ok=True)
            (target / name).write_text(text)
            written[name] = hashlib.sha256(text.encode()).hexdigest()
    return {
        "name": package.name,
        "version": package.version,
        "licence": licence,
        "tarball": package.tarball(),
        "integrity": digest,
        "files": written,
    }


def main() -> None:
    """Refresh every vendored library and VENDORED.json."""
    VENDOR.mkdir(parents=True, exist_ok=True)
    record = [vendor(package) for package in PACKAGES]
    (VENDOR / "VENDORED.json").write_text(json.dumps(record, indent=2) + "\n")
    for entry in record:
        print(f"{entry['name']}@{entry['version']} ({entry['licence']})")


if __name__ == "__main__":
    main()
