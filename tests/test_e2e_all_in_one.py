"""anaconda-client 1.16.0 against `pkgcloud all`."""

from e2e_harness.anaconda_flows import AnacondaClientFlows


class TestAllInOne(AnacondaClientFlows):
    topology = "all"


class TestAllInOneRestart:
    """Data survives a restart of the all-in-one process."""

    def test_upload_survives_restart(self, tmp_path):
        import json

        import requests
        from e2e_harness.anaconda_cli import AnacondaCLI
        from e2e_harness.status import owner_status
        from e2e_harness.topology import start_all_in_one

        data = tmp_path / "data"
        topo = start_all_in_one(data)
        try:
            assert topo.pkgcloud("admin", "create-user", "frank", "--password", "frank-password-1", "--email", "f@example.com").returncode == 0
            cli = AnacondaCLI(tmp_path / "home", topo.api_url)
            assert "login successful" in cli.output("login", "--username", "frank", "--password", "frank-password-1")
            f = tmp_path / "keep.txt"
            f.write_text("kept across restarts\n")
            cli.run("upload", "--package-type", "file", "--package", "keep", "--version", "1", "--summary", "s", str(f), check=True)
            applied = owner_status("index", topo.grpc["index"], "frank").events_applied
        finally:
            topo.stop()
        topo = start_all_in_one(data)
        try:
            r = requests.get(f"{topo.api_url}/download/frank/keep/1/keep.txt", timeout=10)
            assert r.status_code == 200 and r.content == b"kept across restarts\n"
            # the login token was stored hashed and still resolves
            cli2 = AnacondaCLI(tmp_path / "home2", topo.api_url)
            assert "login successful" in cli2.output("login", "--username", "frank", "--password", "frank-password-1")
            assert owner_status("index", topo.grpc["index"], "frank").events_applied == applied
            pkgs = requests.get(f"{topo.api_url}/packages/frank", timeout=10).json()
            assert [p["full_name"] for p in pkgs] == ["frank/keep"], json.dumps(pkgs)
        finally:
            topo.stop()

    def test_request_id_crosses_grpc(self, tmp_path):
        import json

        import requests
        from e2e_harness.topology import start_all_in_one

        topo = start_all_in_one(tmp_path / "data")
        try:
            rid = "rid-" + "7" * 20
            r = requests.post(f"{topo.api_url}/user", json={"login": "gina", "email": "g@example.com", "password": "gina-password-1"},
                              headers={"X-Request-Id": rid}, timeout=10)
            assert r.status_code == 201 and r.headers["X-Request-Id"] == rid
        finally:
            topo.stop()
        lines = [json.loads(x) for x in topo.logs["all"].read_text().splitlines() if x.startswith("{")]
        services = {x["service"] for x in lines if x.get("request_id") == rid}
        # the gateway's access line and a line logged inside auth-svc's gRPC handler
        assert "gateway" in services and "auth" in services, services


class TestGatewayWorkerProcesses:
    """PKGCLOUD_GATEWAY_PROCESSES=2: a second gateway process shares the port, serves the same
    data through the same services, and exits when its parent is killed."""

    def test_two_gateway_processes_share_the_port(self, tmp_path):
        import signal
        import time

        import psutil
        import requests
        from e2e_harness.anaconda_cli import AnacondaCLI
        from e2e_harness.topology import start_all_in_one

        topo = start_all_in_one(tmp_path / "data", PKGCLOUD_GATEWAY_PROCESSES="2")
        parent = psutil.Process(topo.procs["all"].pid)
        try:
            deadline = time.monotonic() + 30
            while not [c for c in parent.children() if "gateway" in " ".join(c.cmdline())] and time.monotonic() < deadline:
                time.sleep(0.2)
            [worker] = [c for c in parent.children() if "gateway" in " ".join(c.cmdline())]
            assert topo.pkgcloud("admin", "create-user", "hana", "--password", "hana-password-1", "--email", "h@example.com").returncode == 0
            cli = AnacondaCLI(tmp_path / "home", topo.api_url)
            assert "login successful" in cli.output("login", "--username", "hana", "--password", "hana-password-1")
            f = tmp_path / "w.txt"
            f.write_text("served by either process\n")
            cli.run("upload", "--package-type", "file", "--package", "w", "--version", "1", "--summary", "s", str(f), check=True)
            # new connections are spread over both processes by the kernel; every one answers
            for _ in range(40):
                r = requests.get(f"{topo.api_url}/download/hana/w/1/w.txt", headers={"Connection": "close"}, timeout=10)
                assert r.status_code == 200 and r.content == b"served by either process\n"
            # a revocation bites in both processes on the very next request: warm both caches
            # with the token, remove it through one of them, and no connection takes it again
            token = requests.post(f"{topo.api_url}/authentications", auth=("hana", "hana-password-1"),
                                  json={"note": "two-processes", "scopes": ["api:read"]}, timeout=10).json()["token"]
            user = f"{topo.api_url}/user"
            for _ in range(40):
                r = requests.get(user, headers={"Authorization": f"token {token}", "Connection": "close"}, timeout=10)
                assert r.status_code == 200
            assert "Removed token two-processes" in cli.output("org", "auth", "--remove", "two-processes")
            statuses = {requests.get(user, headers={"Authorization": f"token {token}", "Connection": "close"}, timeout=10).status_code
                        for _ in range(40)}
            assert statuses == {401}
            topo.procs["all"].send_signal(signal.SIGKILL)
            topo.procs["all"].wait(timeout=10)
            worker.wait(timeout=10)  # the watchdog notices the parent is gone
        finally:
            topo.stop()
