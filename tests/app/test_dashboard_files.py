"""The dashboard's vendored libraries: pinned, checked, recorded; the script fetching them."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from app.ui import vendor
from app.ui.routes import STATIC
from tests.support.peer import Peer, Reply

pytestmark = pytest.mark.fast


def test_every_vendored_file_is_the_one_recorded_with_its_pin_and_licence() -> None:
    record = json.loads((vendor.VENDOR / "VENDORED.json").read_text())
    pinned = {p.name: p for p in vendor.PACKAGES}
    assert {entry["name"] for entry in record} == set(pinned)
    for entry in record:
        package = pinned[entry["name"]]
        assert entry["version"] == package.version
        assert entry["integrity"] == package.integrity
        assert entry["licence"] in vendor.ALLOWED_LICENCES
        for name, digest in entry["files"].items():
            assert hashlib.sha256((vendor.VENDOR / name).read_bytes()).hexdigest() == digest, name
    hooks = (vendor.VENDOR / "preact-hooks.mjs").read_text()
    assert 'from"preact"' not in hooks
    assert 'from"./preact.mjs"' in hooks


def test_no_page_loads_anything_from_another_origin_or_inline() -> None:
    shell = (STATIC / "index.html").read_text()
    assert "<style" not in shell
    assert "style=" not in shell
    assert "<script>" not in shell
    for path in STATIC.rglob("*"):
        if path.suffix in {".js", ".mjs", ".html", ".css"} and "vendor" not in path.parts:
            text = path.read_text()
            assert "https://cdn" not in text, path
            assert "innerHTML" not in text, path
            assert "dangerouslySetInnerHTML" not in text, path


def _tarball(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _registry(peer: Peer, tarball: bytes, licence: str = "MIT", integrity: str = "") -> None:
    meta = {"license": licence, "dist": {"integrity": integrity or _integrity(tarball)}}
    peer.route("/lib/1.0.0", Reply(200, meta))
    peer.route("/lib/-/lib-1.0.0.tgz", Reply(200, raw=tarball))


def _package(tarball: bytes, **overrides: object) -> vendor.Package:
    values: dict[str, object] = {
        "name": "lib",
        "version": "1.0.0",
        "integrity": _integrity(tarball),
        "files": {"dist/lib.mjs": "lib.mjs"},
        "rewrites": {"lib.mjs": [('from"dep"', 'from"./dep.mjs"')]},
    }
    values.update(overrides)
    return vendor.Package(**values)  # type: ignore[arg-type]


def test_the_script_takes_the_pinned_files_and_rewrites_bare_imports(
    peer: Peer, tmp_path: Path
) -> None:
    tarball = _tarball({"dist/lib.mjs": 'import{x}from"dep";export{x}'})
    _registry(peer, tarball)
    entry = vendor.vendor(_package(tarball), tmp_path, peer.url)
    assert (tmp_path / "lib.mjs").read_text() == 'import{x}from"./dep.mjs";export{x}'
    assert entry["licence"] == "MIT"
    assert entry["integrity"] == _integrity(tarball)


def test_the_script_refuses_a_tarball_other_than_the_pinned_one(peer: Peer, tmp_path: Path) -> None:
    tarball = _tarball({"dist/lib.mjs": 'from"dep"'})
    _registry(peer, tarball)
    with pytest.raises(SystemExit, match="tarball digest"):
        vendor.vendor(_package(tarball, integrity="sha512-other"), tmp_path, peer.url)
    assert not (tmp_path / "lib.mjs").exists()


def test_the_script_refuses_a_licence_outside_mit_bsd_isc(peer: Peer, tmp_path: Path) -> None:
    tarball = _tarball({"dist/lib.mjs": 'from"dep"'})
    _registry(peer, tarball, licence="GPL-3.0")
    with pytest.raises(SystemExit, match="not MIT, BSD or ISC"):
        vendor.vendor(_package(tarball), tmp_path, peer.url)


def test_the_script_says_which_file_is_missing_or_cannot_be_rewritten(
    peer: Peer, tmp_path: Path
) -> None:
    tarball = _tarball({"dist/lib.mjs": "no imports here"})
    _registry(peer, tarball)
    with pytest.raises(SystemExit, match="has no 'from\"dep\"' to rewrite"):
        vendor.vendor(_package(tarball), tmp_path, peer.url)
    with pytest.raises(SystemExit, match=r"no dist/other\.mjs in the tarball"):
        vendor.vendor(_package(tarball, files={"dist/other.mjs": "o.mjs"}), tmp_path, peer.url)
