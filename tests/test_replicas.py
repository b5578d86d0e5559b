"""Two replicas of every service behind the same stores (issue 12).

Two gateways, two of each gRPC service (auth, registry, index, render) on one SQLite file
per service, one bucket (moto's S3) and one RabbitMQ exchange with run-unique names. Uploads
and upload-then-remove pairs go through both gateways at once; afterwards every owner's
published conda documents are exactly what `pkgcloud admin rebuild-index` writes from the
registry's records, and nothing removed came back.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from e2e_harness.channel_state import noarch_files, published, settled
from e2e_harness.conda_bad_upload import upload_raw
from e2e_harness.conda_packages import build
from e2e_harness.topology import start_split
from e2e_harness.webui import api_token

pytestmark = [pytest.mark.rabbitmq, pytest.mark.split]

OWNERS = ("rita", "sam", "tess", "uma")
PASSWORD = "replica-password-1"
UPLOADS = 100
PAIRS = 20  # uploaded, then removed


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
                # every applied event published (state.json is written last), then compare
                if all(settled(topo, o) for o in OWNERS):
                    state = {o: published(topo, o) for o in OWNERS}
                    got = {o: noarch_files(state[o], o) for o in OWNERS}
                    if got == kept:
                        break
                else:
                    got = {o: noarch_files(published(topo, o), o) for o in OWNERS}
                assert time.monotonic() < deadline, {o: (sorted(got[o] - kept[o]), sorted(kept[o] - got[o])) for o in OWNERS}
                time.sleep(0.2)
            for o in OWNERS:
                assert not got[o] & removed[o]

            # what the replicas published incrementally is what a rebuild from the registry writes
            for i, owner in enumerate(OWNERS):
                done = topo.pkgcloud("admin", "rebuild-index", owner, target=f"index-{i % 2 + 1}")
                assert done.returncode == 0, done.stdout + done.stderr
                rebuilt = published(topo, owner)
                assert set(rebuilt) == set(state[owner])
                differing = sorted(k for k in rebuilt if rebuilt[k] != state[owner][k])
                assert differing == [], differing
                assert noarch_files(rebuilt, owner) == kept[owner]
        finally:
            topo.stop()

