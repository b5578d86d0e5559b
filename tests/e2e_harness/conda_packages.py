"""Small real conda packages built with conda-package-handling, and broken ones for the
bad-input corpus. Used by the registry's unit tests, index-svc's and the e2e suites."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import time
import zipfile
from pathlib import Path

import conda_package_handling.api as cph


def build(
    out_dir: Path, name: str, version: str, *, build_string: str = "0", build_number: int = 0, subdir: str = "noarch",
    ext: str = ".conda", depends: tuple[str, ...] = (), constrains: tuple[str, ...] = (), run_exports: dict | None = None,
    files: dict[str, str] | None = None, index_overrides: dict | None = None,
) -> Path:
    """Build <out_dir>/<subdir>/<name>-<version>-<build>.<ext> and return its path."""
    files = files or {f"share/{name}/{version}.txt": f"{name} {version}\n"}
    work = out_dir / ".build" / f"{name}-{version}-{build_string}{ext}"
    shutil.rmtree(work, ignore_errors=True)
    (work / "info").mkdir(parents=True)
    paths = []
    for rel, content in files.items():
        p = work / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
        paths.append({"_path": rel, "path_type": "hardlink", "sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "size_in_bytes": p.stat().st_size})
    index = {"name": name, "version": version, "build": build_string, "build_number": build_number, "depends": list(depends),
             "constrains": list(constrains), "license": "MIT", "subdir": subdir, "timestamp": int(time.time() * 1000)}
    if subdir == "noarch":
        index["noarch"] = "generic"
    else:
        index.update(arch="x86_64", platform=subdir.split("-")[0])
    index.update(index_overrides or {})
    (work / "info/index.json").write_text(json.dumps(index, indent=2, sort_keys=True))
    (work / "info/paths.json").write_text(json.dumps({"paths": paths, "paths_version": 1}))
    (work / "info/files").write_text("\n".join(files) + "\n")
    (work / "info/about.json").write_text(json.dumps({"summary": f"{name} test package", "home": f"https://example.invalid/{name}", "license": "MIT"}))
    if run_exports:
        (work / "info/run_exports.json").write_text(json.dumps(run_exports))
    if subdir == "noarch":
        (work / "info/link.json").write_text(json.dumps({"noarch": {"type": "generic"}, "package_metadata_version": 1}))
    file_list = sorted(str(p.relative_to(work)) for p in work.rglob("*") if p.is_file())
    (out_dir / subdir).mkdir(parents=True, exist_ok=True)
    fn = f"{name}-{version}-{build_string}{ext}"
    target = out_dir / subdir / fn
    target.unlink(missing_ok=True)
    cph.create(str(work), file_list, fn, str(out_dir / subdir))
    shutil.rmtree(work, ignore_errors=True)
    return target


def tar_bz2(members: dict[str, bytes]) -> bytes:
    """A .tar.bz2 with exactly these members (names taken as given, '..' included)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def index_json(name: str, version: str, build: str = "0", subdir: str = "noarch") -> bytes:
    return json.dumps({"name": name, "version": version, "build": build, "build_number": 0, "depends": [], "subdir": subdir}).encode()


def conda_without_pkg(valid_conda: Path) -> bytes:
    """The .conda with its pkg-*.tar.zst member dropped."""
    src = zipfile.ZipFile(valid_conda)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as out:
        for info in src.infolist():
            if not info.filename.startswith("pkg-"):
                out.writestr(info, src.read(info))
    return buf.getvalue()
