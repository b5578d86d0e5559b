"""Fault injection in the split topology: index-svc is SIGKILLed while uploads go on; once it is
back it applies every missed event exactly once (durable queue, manual ack, idempotent apply)."""

from __future__ import annotations

import signal
import time

import pytest
from e2e_harness.anaconda_cli import AnacondaCLI
from e2e_harness.status import owner_status, wait_applied

pytestmark = [pytest.mark.split, pytest.mark.rabbitmq]


class TestIndexKilledDuringUploads:
    topology = "split"

    def test_twenty_uploads_applied_exactly_once_after_restart(self, topo, tmp_path):
        assert topo.pkgcloud("admin", "create-user", "carol", "--password", "carol-password-1", "--email", "c@example.com").returncode == 0
        cli = AnacondaCLI(tmp_path / "home", topo.api_url)
        assert "login successful" in cli.output("login", "--username", "carol", "--password", "carol-password-1")
        first = tmp_path / "first.txt"
        first.write_text("first\n")
        cli.run("upload", "--package-type", "file", "--package", "faults", "--version", "0", "--summary", "s", str(first), check=True)
        wait_applied("index", topo.grpc["index"], "carol", at_least=1)

        topo.kill("index", signal.SIGKILL)
        files = []
        for i in range(20):
            p = tmp_path / f"f{i:02d}.txt"
            p.write_text(f"file {i}\n")
            files.append(str(p))
        out = cli.output("upload", "--package-type", "file", "--package", "faults", "--version", "1", "--summary", "s", *files)
        assert out.count("Upload complete") == 20, out

        # render-svc kept running and saw all 21; index-svc saw only the first.
        wait_applied("render", topo.grpc["render"], "carol", at_least=21)
        topo.start_process("index")
        topo.wait_grpc_ready("index")
        st = wait_applied("index", topo.grpc["index"], "carol", at_least=21)
        time.sleep(2)  # give any duplicate delivery the chance to show up
        st = owner_status("index", topo.grpc["index"], "carol")
        assert st.events_applied == 21
        assert owner_status("render", topo.grpc["render"], "carol").events_applied == 21

    def test_every_service_serves_metrics(self, topo):
        import requests

        assert set(topo.metrics_ports) == {"auth", "registry", "index", "render"}
        for target, port in topo.metrics_ports.items():
            r = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
            assert r.status_code == 200, target
            assert "pkgcloud_grpc_server_calls_total" in r.text, target
