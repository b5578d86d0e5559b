"""Accounts, tokens and organizations through the real anaconda-client 1.16.0, written once
and bound to every topology (tests/test_accounts_*.py): `class T(AccountFlows): topology = "all"`.

Methods run in order and share one server per class: alice owns the org acme, bob joins a
group of it, carol stays a stranger.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import requests

from .anaconda_cli import AnacondaCLI

PW = {"alice": "alice-password-1", "bob": "bob-password-1", "carol": "carol-password-1"}


def _token_of(cli: AnacondaCLI) -> str:
    [path] = list((cli.home / ".continuum" / "anaconda-client" / "tokens").glob("*.token"))
    return path.read_text().strip()


class AccountFlows:
    topology: str

    @pytest.fixture(scope="class")
    def users(self, topo, tmp_path_factory) -> dict[str, AnacondaCLI]:
        out = {}
        for login, password in PW.items():
            proc = topo.pkgcloud("admin", "create-user", login, "--password", password, "--email", f"{login}@example.com")
            assert proc.returncode == 0, proc.stdout + proc.stderr
            cli = AnacondaCLI(tmp_path_factory.mktemp(f"{login}-home"), topo.api_url)
            text = cli.output("login", "--username", login, "--password", password)
            assert "login successful" in text, text
            out[login] = cli
        return out

    @pytest.fixture(scope="class")
    def work(self, tmp_path_factory):
        return tmp_path_factory.mktemp("files")

    def _get(self, topo, path, token=None, **kw):
        headers = {"Authorization": f"token {token}"} if token else {}
        return requests.get(f"{topo.api_url}{path}", headers=headers, timeout=30, **kw)

    @staticmethod
    def _create_token(cli: AnacondaCLI, login: str, *args: str) -> subprocess.CompletedProcess:
        """`anaconda auth --create` in the legacy flow: the password comes on stdin (§4.8, §10.7)."""
        env = cli.env()
        env["ANACONDA_CLIENT_LEGACY_INTERACTIVE_LOGIN"] = "1"
        return subprocess.run(
            [str(cli.exe), "org", "auth", "--create", *args], env=env, input=PW[login] + "\n",
            capture_output=True, text=True, cwd=cli.home, timeout=120,
        )

    # --- tokens -------------------------------------------------------------------

    def test_list_scopes(self, users):
        out = users["alice"].output("org", "auth", "--list-scopes")
        for scope in ("api:read", "conda:download", "pypi:download", "repos"):
            assert scope in out, out

    def test_create_list_info_remove_and_revocation_within_a_second(self, topo, users):
        alice = users["alice"]
        proc = self._create_token(alice, "alice", "--name", "ci-token", "--scopes", "api:read conda:download", "--max-age", "3600")
        token = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        assert proc.returncode == 0 and len(token) >= 32, proc.stdout + proc.stderr
        me = self._get(topo, "/user", token)
        assert me.status_code == 200 and me.json()["login"] == "alice"

        listing = alice.output("org", "auth", "--list")
        assert "ci-token" in listing and "api:read" in listing, listing
        info = alice.output("-t", token, "org", "auth", "--info")
        assert "ci-token" in info, info
        stored = self._get(topo, "/authentications", token).json()
        [ci] = [t for t in stored if t["application"] == "ci-token"]
        assert ci["scopes"] == ["api:read", "conda:download"] and ci["expires"]

        # every form the token travels in works before the removal ...
        forms = [
            (f"{topo.api_url}/user", {"Authorization": f"token {token}"}),
            (f"{topo.api_url}/user", {"Authorization": f"Bearer {token}"}),
            (f"{topo.api_url}/t/{token}/user", {}),
            (f"{topo.api_url}/packages/alice", {"Authorization": f"token {token}"}),
        ]
        for url, headers in forms:
            assert requests.get(url, headers=headers, timeout=10).status_code == 200, url
        assert requests.get(f"{topo.api_url}/user", auth=("__token__", token), timeout=10).status_code == 200

        out = alice.output("org", "auth", "--remove", "ci-token")
        assert "Removed token ci-token" in out, out
        # ... and none of them right after, whichever gateway process each new connection
        # reaches (their caches follow one shared access epoch: gateway access_epoch.py)
        for _ in range(4):
            statuses = [requests.get(url, headers={**headers, "Connection": "close"}, timeout=10).status_code for url, headers in forms]
            statuses.append(requests.get(f"{topo.api_url}/user", auth=("__token__", token), headers={"Connection": "close"}, timeout=10).status_code)
            assert all(s == 401 for s in statuses), statuses
        assert "ci-token" not in alice.output("org", "auth", "--list")

    def test_expired_token_is_refused(self, topo, users):
        proc = self._create_token(users["bob"], "bob", "--name", "short", "--max-age", "1")
        token = proc.stdout.strip().splitlines()[-1]
        time.sleep(1.2)
        assert self._get(topo, "/user", token).status_code == 401

    # --- organizations and groups -------------------------------------------------

    def test_create_org(self, topo, users):
        r = requests.post(f"{topo.api_url}/organizations", json={"login": "acme", "description": "rockets"},
                          headers={"Authorization": f"token {_token_of(users['alice'])}"}, timeout=10)
        assert r.status_code == 201, r.text
        assert self._get(topo, "/user/acme").json()["user_type"] == "org"
        assert [o["login"] for o in self._get(topo, "/users/alice/orgs").json()] == ["acme"]
        out = users["alice"].output("show", "alice")
        assert "acme" in out, out

    def test_upload_to_the_org_by_its_owner(self, topo, users, work):
        f = work / "hello.txt"
        f.write_text("hello from acme\n")
        users["alice"].run("upload", "-u", "acme", "--package-type", "file", "--package", "hello", "--version", "1",
                           "--summary", "s", str(f), check=True)
        files = self._get(topo, "/package/acme/hello").json()["files"]
        assert [x["version"] for x in files] == ["1"]

    def test_upload_to_the_org_refused_for_a_stranger(self, topo, users, work):
        f = work / "evil.txt"
        f.write_text("not yours\n")
        out = users["carol"].output("upload", "-u", "acme", "--package-type", "file", "--package", "hello",
                                    "--version", "6", "--summary", "s", str(f))
        assert "may not change packages of acme" in out, out
        assert [x["version"] for x in self._get(topo, "/package/acme/hello").json()["files"]] == ["1"]

    def test_groups_commands(self, topo, users, work):
        alice = users["alice"]
        alice.run("groups", "add", "acme/devs", "--perms", "write", check=True)
        alice.run("groups", "add_member", "acme/devs/bob", check=True)
        alice.run("groups", "add_package", "acme/devs/hello", check=True)
        members = alice.output("groups", "members", "acme/devs")
        assert "bob" in members, members
        shown = alice.output("groups", "show", "acme")
        assert "devs" in shown and "owners" in shown and "write" in shown, shown
        assert "acme/hello" in alice.output("groups", "packages", "acme/devs")
        group = self._get(topo, "/group/acme/devs", _token_of(alice)).json()
        assert group["members"] == ["bob"] and group["packages"] == ["acme/hello"]
        # a member of a group with write on the package uploads to it
        f = work / "hello2.txt"
        f.write_text("bob was here\n")
        users["bob"].run("upload", "-u", "acme", "--package-type", "file", "--package", "hello", "--version", "2",
                         "--summary", "s", str(f), check=True)
        versions = sorted(x["version"] for x in self._get(topo, "/package/acme/hello").json()["files"])
        assert versions == ["1", "2"]
        # bob may not change the groups; carol may not even see them
        out = users["bob"].output("groups", "add_member", "acme/devs/carol")
        assert "may not change the groups of acme" in out, out
        assert self._get(topo, "/groups/acme", _token_of(users["carol"])).status_code == 404
        alice.run("groups", "remove_package", "acme/devs/hello", check=True)
        alice.run("groups", "remove_member", "acme/devs/bob", check=True)
        assert self._get(topo, "/group/acme/devs", _token_of(alice)).json()["members"] == []

    def test_an_owner_adds_another_owner(self, topo, users, work):
        users["alice"].run("groups", "add_member", "acme/owners/carol", check=True)
        f = work / "carol.txt"
        f.write_text("now an owner\n")
        users["carol"].run("upload", "-u", "acme", "--package-type", "file", "--package", "tools", "--version", "1",
                           "--summary", "s", str(f), check=True)
        assert self._get(topo, "/package/acme/tools").status_code == 200
        shown = json.dumps(self._get(topo, "/group/acme/owners", _token_of(users["carol"])).json())
        assert "carol" in shown and "alice" in shown
