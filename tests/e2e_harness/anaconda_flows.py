"""The anaconda-client 1.16.0 round trip, written once and run against every topology.

A test class binds it to a topology: `class TestX(AnacondaClientFlows): topology = "all"`.
Methods run in order and share one server, one user and one client HOME per class, the way
a user's session builds up state.
"""

from __future__ import annotations

import hashlib
import os
import re

import pytest
import requests

from .anaconda_cli import AnacondaCLI
from .status import owner_status, wait_applied

PASSWORD = "alice-password-1"


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class AnacondaClientFlows:
    topology: str

    @pytest.fixture(scope="class")
    def alice(self, topo, tmp_path_factory):
        """alice, created by the operator command, logged in through the client."""
        proc = topo.pkgcloud("admin", "create-user", "alice", "--password", PASSWORD, "--email", "alice@example.com")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        cli = AnacondaCLI(tmp_path_factory.mktemp("alice-home"), topo.api_url)
        out = cli.output("login", "--username", "alice", "--password", PASSWORD)
        assert "alice's login successful" in out, out
        return cli

    @pytest.fixture(scope="class")
    def work(self, tmp_path_factory):
        return tmp_path_factory.mktemp("files")

    @staticmethod
    def _token(cli: AnacondaCLI) -> str:
        tokens = list((cli.home / ".continuum" / "anaconda-client" / "tokens").glob("*.token"))
        assert len(tokens) == 1, tokens
        return tokens[0].read_text().strip()

    def _api(self, topo, cli, method, path, **kw):
        headers = kw.pop("headers", {})
        headers.setdefault("Authorization", f"token {self._token(cli)}")
        return requests.request(method, f"{topo.api_url}{path}", headers=headers, timeout=30, **kw)

    # --- the server is there ------------------------------------------------------

    def test_head_api_healthz_metrics(self, topo):
        assert requests.head(topo.api_url, timeout=5).status_code == 200
        assert requests.head(topo.api_url, headers={"Authorization": "token nonsense"}, timeout=5).status_code == 200
        hz = requests.get(f"{topo.base_url}/healthz", timeout=5)
        assert hz.status_code == 200, hz.text
        metrics = requests.get(f"{topo.base_url}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert "pkgcloud_http_requests_total" in metrics.text
        assert metrics.headers.get("X-Request-Id")

    # --- accounts -----------------------------------------------------------------

    def test_login_and_whoami(self, alice):
        out = alice.output("org", "whoami")
        assert re.search(r"Username: alice", out), out

    def test_signup_api_then_login(self, topo, tmp_path_factory):
        r = requests.post(f"{topo.api_url}/user", json={"login": "bob", "email": "bob@example.com", "password": "bob-password-1"}, timeout=10)
        assert r.status_code == 201, r.text
        assert r.json()["login"] == "bob"
        again = requests.post(f"{topo.api_url}/user", json={"login": "bob", "email": "bob@example.com", "password": "bob-password-1"}, timeout=10)
        assert again.status_code == 409 and again.json()["error"]
        cli = AnacondaCLI(tmp_path_factory.mktemp("bob-home"), topo.api_url)
        assert "bob's login successful" in cli.output("login", "--username", "bob", "--password", "bob-password-1")
        assert "Username: bob" in cli.output("org", "whoami")

    def test_wrong_password_is_refused(self, topo, tmp_path_factory):
        r = requests.post(f"{topo.api_url}/authentications", auth=("alice", "wrong-password"), json={"note": "x"}, timeout=10)
        assert r.status_code == 401
        assert r.json()["error"]
        cli = AnacondaCLI(tmp_path_factory.mktemp("mallory-home"), topo.api_url)
        out = cli.output("login", "--username", "alice", "--password", "wrong-password")
        assert "login successful" not in out
        assert "Anonymous User" in cli.output("org", "whoami")

    # --- upload, show, download ---------------------------------------------------

    def test_upload_file_with_label(self, topo, alice, work):
        f = work / "hello.txt"
        f.write_bytes(b"hello world\n")
        out = alice.output("upload", "--package-type", "file", "--package", "hello", "--version", "1.0",
                           "--summary", "Hello file", "--label", "dev", str(f))
        assert "Upload complete" in out, out
        pkg = self._api(topo, alice, "GET", "/package/alice/hello").json()
        assert pkg["summary"] == "Hello file"
        assert pkg["package_types"] == ["file"]
        [entry] = pkg["files"]
        assert entry["basename"] == "hello.txt"
        assert entry["version"] == "1.0"
        assert entry["labels"] == ["dev"]
        assert entry["sha256"] == "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"
        assert entry["size"] == 12

    def test_duplicate_upload_conflicts(self, topo, alice, work):
        f = work / "hello.txt"
        out = alice.output("upload", "--package-type", "file", "--package", "hello", "--version", "1.0", "--summary", "Hello file", str(f))
        assert "already exists" in out and "409" in out, out

    def test_skip_existing(self, topo, alice, work):
        f = work / "hello.txt"
        proc = alice.run("upload", "--skip-existing", "--package-type", "file", "--package", "hello", "--version", "1.0", "--summary", "Hello file", str(f))
        assert proc.returncode == 0
        assert "Skipping" in proc.stdout + proc.stderr

    def test_force_replaces(self, topo, alice, work, tmp_path):
        f = work / "hello.txt"
        f.write_bytes(b"hello again, replaced\n")
        out = alice.output("upload", "--force", "--package-type", "file", "--package", "hello", "--version", "1.0", "--summary", "Hello file", str(f))
        assert "Upload complete" in out, out
        [entry] = self._api(topo, alice, "GET", "/package/alice/hello").json()["files"]
        assert entry["sha256"] == _sha256(f)
        assert entry["labels"] == ["main"]

    def test_show(self, alice):
        out = alice.output("show", "alice")
        assert "alice/hello" in out, out
        out = alice.output("show", "alice/hello")
        assert "1.0" in out and "Hello file" in out, out
        out = alice.output("show", "alice/hello/1.0")
        assert "hello.txt" in out, out

    def test_download(self, alice, work, tmp_path):
        proc = alice.run("download", "alice/hello", cwd=tmp_path, timeout=120)
        got = tmp_path / "hello.txt"
        assert got.exists(), proc.stdout + proc.stderr
        assert got.read_bytes() == (work / "hello.txt").read_bytes()

    def test_large_file_streams_both_ways(self, topo, alice, tmp_path):
        big = tmp_path / "big.bin"
        with open(big, "wb") as fh:
            for _ in range(48):
                fh.write(os.urandom(1 << 20))
        out = alice.output("upload", "--package-type", "file", "--package", "bigfile", "--version", "1",
                           "--summary", "48 MiB of noise", str(big), timeout=600)
        assert "Upload complete" in out, out
        dl = tmp_path / "dl"
        dl.mkdir()
        alice.run("download", "alice/bigfile", cwd=dl, timeout=600)
        assert _sha256(dl / "big.bin") == _sha256(big)

    # --- events reach the consumers ------------------------------------------------

    def test_events_applied_by_index_and_render(self, topo, alice):
        # three commits so far: hello (twice, --force) and bigfile
        for svc in ("index", "render"):
            st = wait_applied(svc, topo.grpc[svc], "alice", at_least=3)
            assert st.last_event_type == "file.committed"
            assert st.last_event_id

    # --- removal ------------------------------------------------------------------

    def test_remove_release_and_package(self, topo, alice, work):
        f = work / "v2.txt"
        f.write_bytes(b"version two\n")
        alice.run("upload", "--package-type", "file", "--package", "hello", "--version", "2.0", "--summary", "Hello file", str(f), check=True)
        before = owner_status("index", topo.grpc["index"], "alice").events_applied
        alice.run("remove", "-f", "alice/hello/1.0", check=True)
        assert self._api(topo, alice, "GET", "/release/alice/hello/1.0").status_code == 404
        pkg = self._api(topo, alice, "GET", "/package/alice/hello").json()
        assert [x["version"] for x in pkg["files"]] == ["2.0"]
        alice.run("remove", "-f", "alice/hello", check=True)
        r = self._api(topo, alice, "GET", "/package/alice/hello")
        assert r.status_code == 404 and r.json()["error"]
        st = wait_applied("index", topo.grpc["index"], "alice", at_least=before + 2)
        assert st.last_event_type in ("file.removed", "package.removed")
        dl = self._api(topo, alice, "GET", "/download/alice/hello/2.0/v2.txt", allow_redirects=False)
        assert dl.status_code == 404

    # --- logout -------------------------------------------------------------------

    def test_logout_revokes_the_token(self, topo, alice):
        token = self._token(alice)
        assert requests.get(f"{topo.api_url}/user", headers={"Authorization": f"token {token}"}, timeout=5).status_code == 200
        out = alice.output("org", "logout")
        assert "logout successful" in out, out
        r = requests.get(f"{topo.api_url}/user", headers={"Authorization": f"token {token}"}, timeout=5)
        assert r.status_code == 401 and r.json()["error"]
        assert "Anonymous User" in alice.output("org", "whoami")
