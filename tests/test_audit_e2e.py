"""The audit trail end to end: changes made through the real anaconda-client (and the API
where no client command exists) against `pkgcloud all`, then read back through
GET /api/audit/<owner> and the web UI's Activity page."""

from __future__ import annotations

import subprocess

import requests
from e2e_harness.anaconda_cli import AnacondaCLI
from e2e_harness.pypi_flows import build_project, twine_upload
from e2e_harness.topology import start_all_in_one
from e2e_harness.webui import web_login

PW = {"alice": "alice-password-1", "bob": "bob-password-1"}


def _login_token(cli: AnacondaCLI) -> str:
    [path] = list((cli.home / ".continuum" / "anaconda-client" / "tokens").glob("*.token"))
    return path.read_text().strip()


def _create_token(cli: AnacondaCLI, password: str, *args: str) -> str:
    """`anaconda auth --create` (the password on stdin, the legacy flow)."""
    env = cli.env()
    env["ANACONDA_CLIENT_LEGACY_INTERACTIVE_LOGIN"] = "1"
    proc = subprocess.run([str(cli.exe), "org", "auth", "--create", *args], env=env, input=password + "\n",
                          capture_output=True, text=True, cwd=cli.home, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def test_changes_show_in_the_owners_trail(tmp_path):
    topo = start_all_in_one(tmp_path / "data")
    try:
        api = topo.api_url
        clis = {}
        for login, password in PW.items():
            proc = topo.pkgcloud("admin", "create-user", login, "--password", password, "--email", f"{login}@example.com")
            assert proc.returncode == 0, proc.stdout + proc.stderr
            clis[login] = AnacondaCLI(tmp_path / f"{login}-home", api)
            assert "login successful" in clis[login].output("login", "--username", login, "--password", password)
        alice = clis["alice"]
        session = _login_token(alice)
        session_name = requests.get(f"{api}/authentication", headers={"Authorization": f"token {session}"}, timeout=10).json()["application"]
        auth = {"Authorization": f"token {session}"}

        # changes, through the client where it has a command
        f = tmp_path / "hello.txt"
        f.write_text("hello\n")
        alice.run("upload", "--package-type", "file", "--package", "hello", "--version", "1.0", "--summary", "s",
                  "--label", "dev", str(f), check=True)
        alice.run("label", "--lock", "dev", check=True)
        alice.run("label", "--unlock", "dev", check=True)
        alice.run("label", "--copy", "dev", "beta", check=True)
        ci = _create_token(alice, PW["alice"], "--name", "ci", "--scopes", "api:read api:write")
        ci_auth = {"Authorization": f"token {ci}"}
        assert requests.patch(f"{api}/package/alice/hello", json={"public": False}, headers=ci_auth, timeout=10).status_code == 200
        assert requests.put(f"{api}/packages/alice/hello/collaborators/bob", headers=ci_auth, timeout=10).status_code in (200, 201, 204)
        alice.run("-t", ci, "remove", "-f", "alice/hello/1.0/hello.txt", check=True)
        narrow = _create_token(alice, PW["alice"], "--name", "downloads-only", "--scopes", "conda:download")
        assert "Removed token" in alice.output("org", "auth", "--remove", "downloads-only")
        # a refused login on alice's account
        assert requests.post(f"{api}/authentications", auth=("alice", "not-her-password"), json={"note": "x"}, timeout=10).status_code == 401
        assert requests.post(f"{api}/user/password", json={"old_password": PW["alice"], "new_password": "alice-password-2"},
                             headers=auth, timeout=10).status_code == 200
        passwords = {**PW, "alice": "alice-password-2"}

        r = requests.get(f"{api}/audit/alice", headers=auth, timeout=10)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"entries", "next"} and body["next"] is None
        entries = body["entries"]
        got = [(e["action"], e["target"], e["actor"], e["token"]) for e in entries]
        expected_newest_first = [
            ("password.change", "alice", "alice", session_name),
            ("login.refused", "alice", "alice", None),
            ("token.revoke", "alice/tokens/downloads-only", "alice", session_name),
            ("token.create", "alice/tokens/downloads-only", "alice", None),
            ("file.remove", "alice/hello/1.0/hello.txt", "alice", "ci"),
            ("collaborator.add", "alice/hello/collaborators/bob", "alice", "ci"),
            ("package.update", "alice/hello", "alice", "ci"),
            ("package.private", "alice/hello", "alice", "ci"),
            ("token.create", "alice/tokens/ci", "alice", None),
            ("label.copy", "alice/hello/1.0/hello.txt#beta", "alice", session_name),
            ("label.unlock", "alice#dev", "alice", session_name),
            ("label.lock", "alice#dev", "alice", session_name),
            ("file.upload", "alice/hello/1.0/hello.txt", "alice", session_name),
            ("release.create", "alice/hello/1.0", "alice", session_name),
            ("package.create", "alice/hello", "alice", session_name),
        ]
        # the login of the client (a password: no token) and the operator's account creation come first
        assert got[:len(expected_newest_first)] == expected_newest_first, got
        assert got[len(expected_newest_first):] == [("token.create", f"alice/tokens/{session_name}", "alice", None),
                                                    ("account.create", "alice", "admin", None)], got
        assert all(e["client"] == "127.0.0.1" for e in entries[:-1]), entries
        assert all(len(e["request_id"]) >= 16 and e["at"].endswith("Z") for e in entries[:-1]), entries
        # no token value and no password anywhere in what the API answers
        for secret in (session, ci, narrow, PW["alice"], passwords["alice"], "not-her-password"):
            assert secret not in r.text

        # twine uploads with the login token, yank and unyank with the ci token (Basic __token__)
        pypi = api.rsplit("/api", 1)[0] + "/pypi"
        dists = build_project(tmp_path / "py", "tiny-audit", "1.0")
        proc = twine_upload(f"{pypi}/alice/", "__token__", session, dists, tmp_path / "py")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert requests.post(f"{pypi}/alice/yank/tiny-audit/1.0/", json={"reason": "broken"}, auth=("__token__", ci), timeout=10).status_code == 200
        assert requests.delete(f"{pypi}/alice/yank/tiny-audit/1.0/", auth=("__token__", ci), timeout=10).status_code == 200
        wheel, sdist = "alice/tiny-audit/1.0/tiny_audit-1.0-py3-none-any.whl", "alice/tiny-audit/1.0/tiny_audit-1.0.tar.gz"
        for action in ("file.yank", "file.unyank"):
            found = requests.get(f"{api}/audit/alice", params={"action": action}, headers=auth, timeout=10).json()["entries"]
            assert sorted((e["target"], e["actor"], e["token"]) for e in found) == [(wheel, "alice", "ci"), (sdist, "alice", "ci")]
        full = requests.get(f"{api}/audit/alice", headers=auth, timeout=10)
        entries = full.json()["entries"]
        for secret in (session, ci, narrow, PW["alice"], passwords["alice"], "not-her-password"):
            assert secret not in full.text

        # filters and pages
        uploads = requests.get(f"{api}/audit/alice", params={"action": "file.upload"}, headers=auth, timeout=10).json()["entries"]
        assert sorted((e["target"], e["token"]) for e in uploads) == [
            ("alice/hello/1.0/hello.txt", session_name), (wheel, session_name), (sdist, session_name)]
        by_admin = requests.get(f"{api}/audit/alice", params={"actor": "admin"}, headers=auth, timeout=10).json()["entries"]
        assert [e["action"] for e in by_admin] == ["account.create"]
        walked, cursor = [], None
        while True:
            page = requests.get(f"{api}/audit/alice", params={"limit": 4, **({"cursor": cursor} if cursor else {})}, headers=auth, timeout=10).json()
            walked += page["entries"]
            cursor = page["next"]
            if cursor is None:
                break
        assert walked == entries
        assert requests.get(f"{api}/audit/alice", params={"cursor": "nonsense"}, headers=auth, timeout=10).status_code == 400

        # who may read it: alice with api:read, nobody else, and no token without api:read
        assert requests.get(f"{api}/audit/alice", headers=ci_auth, timeout=10).status_code == 200
        assert requests.get(f"{api}/audit/alice", timeout=10).status_code == 401
        bob = {"Authorization": f"token {_login_token(clis['bob'])}"}
        assert requests.get(f"{api}/audit/alice", headers=bob, timeout=10).status_code == 403
        # (api:write implies api:read: servicekit/scopes.py)
        no_read = _create_token(alice, passwords["alice"], "--name", "no-read", "--scopes", "conda:download pypi:download")
        refused = requests.get(f"{api}/audit/alice", headers={"Authorization": f"token {no_read}"}, timeout=10)
        assert refused.status_code == 403 and "api:read" in refused.text
        # bob's own trail holds his own account only
        mine = requests.get(f"{api}/audit/bob", headers=bob, timeout=10).json()["entries"]
        assert [e["action"] for e in mine] == ["token.create", "account.create"]

        # an organization's trail: its admins read it, a plain member does not
        assert requests.post(f"{api}/organizations", json={"login": "acme"}, headers=auth, timeout=10).status_code == 201
        alice.run("groups", "add", "acme/devs", "--perms", "write", check=True)
        alice.run("groups", "add_member", "acme/devs/bob", check=True)
        org = requests.get(f"{api}/audit/acme", headers=auth, timeout=10)
        assert org.status_code == 200, org.text
        assert [(e["action"], e["target"], e["actor"]) for e in org.json()["entries"]] == [
            ("group.member.add", "acme/groups/devs/members/bob", "alice"),
            ("group.set", "acme/groups/devs:write", "alice"),
            ("org.create", "acme", "alice"),
        ]
        assert requests.get(f"{api}/audit/acme", headers=bob, timeout=10).status_code == 403

        # the web UI's Activity page shows the same entries to alice's browser session
        web = web_login(topo.base_url, "alice", passwords["alice"])
        page = web.get(f"{topo.base_url}/settings/activity", timeout=10)
        assert page.status_code == 200 and 'id="activity-title"' in page.text, page.text[:500]
        for action, target, _, _ in expected_newest_first:
            assert action in page.text and target in page.text
        assert ci not in page.text and session not in page.text
    finally:
        topo.stop()
