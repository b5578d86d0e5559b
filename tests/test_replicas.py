"""Two replicas of every service behind the same stores (issue 12).

Two gateways, two of each gRPC service (auth, registry, index, render) on one SQLite file
per service, one bucket (moto's S3) and one RabbitMQ exchange with run-unique names. Uploads
and upload-then-remove pairs go through both gateways at once; afterwards every owner's
published conda documents are exactly what `pkgcloud admin rebuild-index` writes from the
registry's records, and nothing removed came back.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from e2e_harness.conda_bad_upload import upload_raw
from e2e_harness.conda_packages import build
from e2e_harness.topology import Topology, start_split
from e2e_harness.webui import api_token

pytestmark = [pytest.mark.rabbitmq, pytest.mark.split]

OWNERS = ("rita", "sam", "tess", "uma")
PASSWORD = "replica-password-1"
UPLOADS = 100
PAIRS = 20  # uploaded, then removed


def _blob_store(topo: Topology):
    from pkgcloud_servicekit.blobstore import make_blob_store
    from pkgcloud_servicekit.settings import Settings

    settings = {k.removeprefix("PKGCLOUD_").lower(): v for k, v in topo.env.items() if k.startswith("PKGCLOUD_")}
    return make_blob_store(Settings(**settings))


def _published(topo: Topology, owner: str) -> dict[str, bytes]:
    """The owner's published conda documents, straight from the bucket (no gateway cache):
    every JSON document and shard index, without index-svc's own bookkeeping."""

    async def read() -> dict[str, bytes]:
        blobs = _blob_store(topo)
        try:
            keys = [k async for k in blobs.list(f"indexes/conda/{owner}/")]
            wanted = [k for k in keys if (k.endswith(".json") or k.endswith("repodata_shards.msgpack.zst"))
                      and not k.endswith(("/manifest.json", "/state.json"))]
            return {k: await blobs.read_bytes(k) for k in sorted(wanted)}
        finally:
            await blobs.close()

    return asyncio.run(read())


def _noarch_files(docs: dict[str, bytes], owner: str) -> set[str]:
    raw = docs.get(f"indexes/conda/{owner}/public/label/main/noarch/repodata.json")
    if raw is None:
        return set()
    doc = json.loads(raw)
    return set(doc.get("packages", {})) | set(doc.get("packages.conda", {}))


class TestTwoReplicasOfEveryService:
    def test_uploads_and_removals_through_both_gateways_equal_a_rebuild(self, tmp_path_factory, tmp_path):
        topo = start_split(tmp_path_factory.mktemp("replicas"), replicas=2)
        try:
            assert len(topo.base_urls) == 2 and len(topo.procs) == 10
            tokens = {}
            for i, owner in enumerate(OWNERS):
                done = topo.pkgcloud("admin", "create-user", owner, "--password", PASSWORD, "--email", f"{owner}@example.com",
                                     target=f"auth-{i % 2 + 1}")
                assert done.returncode == 0, done.stderr
                tokens[owner] = api_token(f"{topo.base_urls[f'gateway-{i % 2 + 1}']}/api", owner, PASSWORD)
            gateways = [f"{topo.base_urls[g]}/api" for g in ("gateway-1", "gateway-2")]

            # 120 distinct packages files; every sixth is uploaded and then removed
            jobs = []
            for i in range(UPLOADS + PAIRS):
                owner = OWNERS[i % len(OWNERS)]
                path = build(tmp_path / "pkgs", f"lib{i % 5}", f"1.{i}", ext=".tar.bz2")
                jobs.append((i, owner, f"noarch/{path.name}", path.read_bytes(), i % 6 == 5))
            assert sum(1 for j in jobs if j[4]) == PAIRS

            def run(job) -> tuple[str, str, bool]:
                i, owner, basename, data, remove = job
                api = gateways[i % 2]
                status, body = upload_raw(api, tokens[owner], owner, basename, data)
                assert status == 200, (basename, status, body)
                if remove:
                    # removed through the other gateway, right after the upload
                    name, version = basename.split("/", 1)[1].rsplit("-", 2)[:2]
                    r = requests.delete(f"{gateways[(i + 1) % 2]}/dist/{owner}/{name}/{version}/{basename}",
                                        headers={"Authorization": f"token {tokens[owner]}"}, timeout=60)
                    assert r.status_code in (200, 201, 204), (basename, r.status_code, r.text)
                return owner, basename.split("/", 1)[1], remove

            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(run, jobs))
            kept = {o: {fn for owner, fn, removed in results if owner == o and not removed} for o in OWNERS}
            removed = {o: {fn for owner, fn, gone in results if owner == o and gone} for o in OWNERS}
            assert sum(len(v) for v in kept.values()) == UPLOADS

            # the index converges on exactly the kept files, removals included
            deadline = time.monotonic() + 60
            while True:
                published = {o: _published(topo, o) for o in OWNERS}
                got = {o: _noarch_files(published[o], o) for o in OWNERS}
                if got == kept:
                    break
                assert time.monotonic() < deadline, {o: (sorted(got[o] - kept[o]), sorted(kept[o] - got[o])) for o in OWNERS}
                time.sleep(0.2)
            for o in OWNERS:
                assert not got[o] & removed[o]

            # what the replicas published incrementally is what a rebuild from the registry writes
            for i, owner in enumerate(OWNERS):
                done = topo.pkgcloud("admin", "rebuild-index", owner, target=f"index-{i % 2 + 1}")
                assert done.returncode == 0, done.stdout + done.stderr
                rebuilt = _published(topo, owner)
                assert set(rebuilt) == set(published[owner])
                differing = sorted(k for k in rebuilt if rebuilt[k] != published[owner][k])
                assert differing == [], differing
                assert _noarch_files(rebuilt, owner) == kept[owner]
        finally:
            topo.stop()

