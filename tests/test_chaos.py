"""Chaos (issue 12): uploads while processes are SIGKILLed and RabbitMQ restarts.

Two replicas of every service (tests/e2e_harness/topology.py, split with replicas=2). While
200 conda uploads run through both gateways, a loop SIGKILLs one process at a time (every
replica of every service, gateways included), restarts it and waits until it serves again,
and halfway through restarts the RabbitMQ broker itself. A client retries an upload that
failed under it (as a person would); an upload counts as acknowledged once its commit
answered 200.

Afterwards: no acknowledged upload is missing from the index (lost), no file is listed twice
or without an upload (duplicated), the channels converge within 10 s of the last restart and
equal what `pkgcloud admin rebuild-index` writes, and no incomplete multipart upload is left
in the bucket.

Restarting the broker would break other tests' connections, so this runs in `make test`'s
second, exclusive phase (marker `exclusive`: alone, after the parallel run).
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import requests
from e2e_harness.channel_state import noarch_files, published, settled
from e2e_harness.conda_bad_upload import upload_raw
from e2e_harness.conda_packages import build
from e2e_harness.topology import SERVICES, Topology, start_split
from e2e_harness.webui import api_token

pytestmark = [pytest.mark.rabbitmq, pytest.mark.split, pytest.mark.exclusive]

OWNERS = ("kim", "lou", "max", "ned")
PASSWORD = "chaos-password-1"
UPLOADS = 200
CONVERGE_S = 10.0


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def _restart_broker() -> None:
    _rabbitmqctl("stop_app")
    _start_broker()


def _start_broker() -> None:
    _rabbitmqctl("start_app")  # a no-op on a running broker
    _rabbitmqctl("await_startup")


def _incomplete_multipart_uploads(topo: Topology) -> int:
    s3 = boto3.client("s3", endpoint_url=f"http://{topo.env['PKGCLOUD_MINIO_ENDPOINT']}", aws_access_key_id="testing",
                      aws_secret_access_key="testing", region_name="us-east-1")
    return len(s3.list_multipart_uploads(Bucket=topo.env["PKGCLOUD_MINIO_BUCKET"]).get("Uploads", []))


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="restarting the broker needs rabbitmqctl (make system-deps installs it)")
def test_uploads_survive_killed_processes_and_a_broker_restart(tmp_path_factory, tmp_path):
    topo = start_split(tmp_path_factory.mktemp("chaos"), replicas=2)
    stop_chaos = threading.Event()
    figures = {"kills": 0, "broker_restarts": 0, "retried_attempts": 0}
    last_restart = [time.monotonic()]
    try:
        tokens = {}
        for owner in OWNERS:
            done = topo.pkgcloud("admin", "create-user", owner, "--password", PASSWORD, "--email", f"{owner}@example.com", target="auth-1")
            assert done.returncode == 0, done.stderr
            tokens[owner] = api_token(topo.api_url, owner, PASSWORD)
        jobs = []
        for i in range(UPLOADS):
            path = build(tmp_path / "pkgs", f"chaos{i % 7}", f"2.{i}", ext=".tar.bz2")
            jobs.append((i, OWNERS[i % len(OWNERS)], f"noarch/{path.name}", path.read_bytes()))

        # the plan: every process killed and restarted, one at a time, twice over, with the
        # broker restarted between the two rounds; uploads are spread over the whole plan
        order = [f"{svc}-{n}" for n in (1, 2) for svc in (*SERVICES, "gateway")]
        plan = [*order, "rabbitmq", *order]
        progress = threading.Condition()
        steps_done = [0]

        def chaos() -> None:
            for step in plan:
                if stop_chaos.is_set():
                    return
                if step == "rabbitmq":
                    _restart_broker()
                    figures["broker_restarts"] += 1
                else:
                    topo.restart(step)
                    figures["kills"] += 1
                last_restart[0] = time.monotonic()
                with progress:
                    steps_done[0] += 1
                    progress.notify_all()

        def upload(job) -> tuple[str, str]:
            i, owner, basename, data = job
            with progress:  # upload i waits for its share of the plan to have happened
                assert progress.wait_for(lambda: steps_done[0] >= i * len(plan) // UPLOADS or stop_chaos.is_set(), timeout=600)
            deadline = time.monotonic() + 300
            for attempt in itertools.count():
                gateways = sorted(topo.base_urls.items())
                api = f"{gateways[(i + attempt) % len(gateways)][1]}/api"
                try:
                    status, body = upload_raw(api, tokens[owner], owner, basename, data)
                except (requests.RequestException, ValueError) as e:
                    status, body = 0, repr(e)
                if status == 200:
                    return owner, basename.split("/", 1)[1]
                figures["retried_attempts"] += 1
                assert time.monotonic() < deadline, (basename, status, body)
                time.sleep(0.2)
            raise AssertionError("unreachable")

        chaos_thread = threading.Thread(target=chaos, daemon=True)
        chaos_thread.start()
        try:
            with ThreadPoolExecutor(6) as pool:
                acknowledged = list(pool.map(upload, jobs))
        finally:
            stop_chaos.set()
            chaos_thread.join(timeout=180)
        assert not chaos_thread.is_alive()
        assert figures["broker_restarts"] == 1 and figures["kills"] == len(plan) - 1, figures

        want = {o: {fn for owner, fn in acknowledged if owner == o} for o in OWNERS}
        assert sum(len(v) for v in want.values()) == UPLOADS  # every upload acknowledged once
        while True:
            # every applied event published (state.json is written last), then compare
            state = {o: published(topo, o) for o in OWNERS}
            got = {o: noarch_files(state[o], o) for o in OWNERS}
            if got == want and all(settled(topo, o) for o in OWNERS):
                state = {o: published(topo, o) for o in OWNERS}
                if {o: noarch_files(state[o], o) for o in OWNERS} == want:
                    break
            waited = time.monotonic() - last_restart[0]
            assert waited < CONVERGE_S, {o: (sorted(want[o] - got[o]), sorted(got[o] - want[o])) for o in OWNERS}
            time.sleep(0.1)
        figures["converged_after_last_restart_s"] = round(time.monotonic() - last_restart[0], 2)
        lost = sum(len(want[o] - got[o]) for o in OWNERS)
        extra = sum(len(got[o] - want[o]) for o in OWNERS)
        # the registry's own listing has each file once
        listed = []
        for owner in OWNERS:
            r = requests.get(f"{topo.api_url}/packages/{owner}", headers={"Authorization": f"token {tokens[owner]}"}, timeout=30)
            assert r.status_code == 200, r.text
            listed += [(owner, f["basename"]) for p in r.json() for f in p.get("files", [])]
        duplicated = len(listed) - len(set(listed)) + extra
        figures.update(lost=lost, duplicated=duplicated, registry_files=len(listed))
        for owner in OWNERS:
            done = topo.pkgcloud("admin", "rebuild-index", owner, target="index-1")
            assert done.returncode == 0, done.stdout + done.stderr
            rebuilt = published(topo, owner)
            assert rebuilt == state[owner], owner
        figures["incomplete_multipart_uploads"] = _incomplete_multipart_uploads(topo)
        print("chaos figures:", figures)
        assert lost == 0 and duplicated == 0 and figures["incomplete_multipart_uploads"] == 0, figures
    finally:
        stop_chaos.set()
        try:
            topo.stop()
        finally:
            _start_broker()  # whatever happened, the machine's broker is left running
