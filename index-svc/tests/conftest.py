"""Fixtures shared by index-svc's tests: the store over every backend."""

from __future__ import annotations

import pytest
from pkgcloud_index.store.mongo import MongoIndexStore
from pkgcloud_index.store.sqlite import SqliteIndexStore
from pkgcloud_servicekit.testing import STORE_BACKENDS, store_on_backend


@pytest.fixture(params=STORE_BACKENDS)
async def index_store(request, tmp_path):
    """An open IndexStore on each backend; real MongoDB only when PKGCLOUD_MONGO_URL is set."""
    async with store_on_backend(request.param, tmp_path, "index", sqlite=SqliteIndexStore, mongo=MongoIndexStore) as store:
        yield store


@pytest.fixture
def synthetic_conda_file():
    """A factory of CondaFiles whose attrs are what the registry's conda inspector records,
    without building the package (the documents only read the attrs)."""
    import hashlib
    import json

    from pkgcloud_index.conda.records import CondaFile

    def make(name: str, version: str, *, subdir: str = "linux-64", build: str = "0", build_number: int = 0, ext: str = ".conda",
             labels: tuple[str, ...] = ("main",), public: bool = True, depends: tuple[str, ...] = (), run_exports: dict | None = None,
             timestamp: int = 1_700_000_000_000, summary: str | None = None, upload: int = 0) -> CondaFile:
        basename = f"{subdir}/{name}-{version}-{build}{ext}"
        sha256 = hashlib.sha256(f"{basename}#{upload}".encode()).hexdigest()
        attrs = {"name": name, "version": version, "build": build, "build_number": build_number, "depends": list(depends),
                 "license": "MIT", "subdir": subdir, "timestamp": timestamp, "md5": hashlib.md5(sha256.encode()).hexdigest(),
                 "sha256": sha256, "size": 1000 + upload,
                 "about": {"summary": summary or f"{name} package", "home": f"https://example.invalid/{name}", "license": "MIT"}}
        if run_exports is not None:
            attrs["run_exports"] = run_exports
        return CondaFile(package=name, version=version, basename=basename, subdir=subdir, labels=labels, public=public,
                         sha256=sha256, size=1000 + upload, upload_time_ms=1_700_000_000_000 + upload,
                         attrs_json=json.dumps(attrs, sort_keys=True))

    return make
