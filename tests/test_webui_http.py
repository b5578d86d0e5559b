"""The web UI over plain HTTP against `pkgcloud all`: CSRF refusals, the session cookie's
attributes, private packages absent from another user's view, HTML errors on pages while the
API keeps JSON, and no open redirect through the login page."""

from __future__ import annotations

import re

import pytest
import requests
from e2e_harness.webui import api_token, api_upload, form_token, web_login

OWNER, OWNER_PW = "olga", "olga-password-1"
OTHER, OTHER_PW = "otto", "otto-password-1"


class TestWebUIHttpAllInOne:
    topology = "all"

    @pytest.fixture(scope="class")
    def accounts(self, topo):
        for login, pw in ((OWNER, OWNER_PW), (OTHER, OTHER_PW)):
            proc = topo.pkgcloud("admin", "create-user", login, "--password", pw, "--email", f"{login}@example.com")
            assert proc.returncode == 0, proc.stdout + proc.stderr
        token = api_token(topo.api_url, OWNER, OWNER_PW)
        api_upload(topo.api_url, token, OWNER, "open-data", "1", "open.csv", b"a,b\n1,2\n", "file", summary="Open data")
        api_upload(topo.api_url, token, OWNER, "secret-data", "1", "secret.csv", b"s,t\n3,4\n", "file",
                   public=False, summary="Secret data")
        return token

    def test_session_cookie_is_httponly_and_samesite_lax(self, topo, accounts):
        s = requests.Session()
        page = s.get(f"{topo.base_url}/login", timeout=10)
        assert "pkgcloud_presession" in page.headers["Set-Cookie"]
        r = s.post(f"{topo.base_url}/login", data={"csrf_token": form_token(page.text), "login": OWNER, "password": OWNER_PW},
                   allow_redirects=False, timeout=10)
        assert r.status_code == 303 and r.headers["Location"] == f"/{OWNER}"
        cookie = r.headers["Set-Cookie"]
        assert cookie.startswith("pkgcloud_session=")
        attrs = [a.strip().lower() for a in cookie.split(";")]
        assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs
        assert "secure" not in attrs  # the public URL is http here; https turns it on
        pre = page.headers["Set-Cookie"].lower()
        assert "httponly" in pre and "samesite=lax" in pre

    def test_posts_without_a_valid_csrf_token_are_refused(self, topo, accounts):
        s = web_login(topo.base_url, OWNER, OWNER_PW)
        good = form_token(s.get(f"{topo.base_url}/{OWNER}/open-data", timeout=10).text)
        attempts = [
            ("/logout", {}),
            ("/settings/tokens", {"name": "x"}),
            (f"/{OWNER}/open-data/privacy", {"access": "private"}),
            (f"/{OWNER}/open-data/versions/remove", {"version": "1"}),
            (f"/{OWNER}/open-data/delete", {"confirm": "open-data"}),
            ("/orgs/new", {"login": "csrf-org"}),
        ]
        for path, data in attempts:
            for token in (None, "0" * 64, good[:-1] + ("0" if good[-1] != "0" else "1")):
                body = dict(data) if token is None else {**data, "csrf_token": token}
                r = s.post(f"{topo.base_url}{path}", data=body, allow_redirects=False, timeout=10)
                assert r.status_code == 403, (path, token, r.status_code)
                assert r.headers["Content-Type"].startswith("text/html")
        # nothing changed: still logged in, still public, still there, no org
        assert s.get(f"{topo.base_url}/settings/tokens", allow_redirects=False, timeout=10).status_code == 200
        pkg = requests.get(f"{topo.api_url}/package/{OWNER}/open-data", timeout=10).json()
        assert pkg["public"] is True and [f["version"] for f in pkg["files"]] == ["1"]
        assert requests.get(f"{topo.api_url}/user/csrf-org", timeout=10).status_code == 404
        # another browser's token is no good either
        other = web_login(topo.base_url, OTHER, OTHER_PW)
        theirs = form_token(other.get(f"{topo.base_url}/settings/tokens", timeout=10).text)
        r = s.post(f"{topo.base_url}/logout", data={"csrf_token": theirs}, allow_redirects=False, timeout=10)
        assert r.status_code == 403
        # the right one works
        r = s.post(f"{topo.base_url}/logout", data={"csrf_token": good}, allow_redirects=False, timeout=10)
        assert r.status_code == 303

    def test_a_cross_site_login_post_without_the_presession_cookie_is_refused(self, topo, accounts):
        token = form_token(requests.get(f"{topo.base_url}/login", timeout=10).text)
        r = requests.post(f"{topo.base_url}/login", data={"csrf_token": token, "login": OWNER, "password": OWNER_PW},
                          allow_redirects=False, timeout=10)
        assert r.status_code == 403 and "pkgcloud_session" not in r.headers.get("Set-Cookie", "")

    def test_private_packages_are_absent_from_another_users_view(self, topo, accounts):
        other = web_login(topo.base_url, OTHER, OTHER_PW)
        for client in (other, requests.Session()):
            page = client.get(f"{topo.base_url}/{OWNER}", timeout=10)
            assert page.status_code == 200
            assert "open-data" in page.text and "secret-data" not in page.text and "Secret data" not in page.text
            missing = client.get(f"{topo.base_url}/{OWNER}/secret-data", timeout=10)
            nothing = client.get(f"{topo.base_url}/{OWNER}/never-existed", timeout=10)
            assert missing.status_code == nothing.status_code == 404
            assert _error(missing.text) == _error(nothing.text) == "Package not found"
            assert client.get(f"{topo.base_url}/{OWNER}/secret-data/files/1/secret.csv", timeout=10).status_code == 404
            # and a stranger cannot change it (the refusal says nothing of whether it exists)
        token = form_token(other.get(f"{topo.base_url}/{OWNER}", timeout=10).text)
        r = other.post(f"{topo.base_url}/{OWNER}/secret-data/privacy", data={"csrf_token": token, "access": "public"}, timeout=10)
        r2 = other.post(f"{topo.base_url}/{OWNER}/never-existed/privacy", data={"csrf_token": token, "access": "public"}, timeout=10)
        assert r.status_code == r2.status_code == 403
        # the owner sees it, and downloads its file through the session
        owner = web_login(topo.base_url, OWNER, OWNER_PW)
        assert "secret-data" in owner.get(f"{topo.base_url}/{OWNER}", timeout=10).text
        assert owner.get(f"{topo.base_url}/{OWNER}/secret-data", timeout=10).status_code == 200
        assert owner.get(f"{topo.base_url}/{OWNER}/secret-data/files/1/secret.csv", timeout=10).content == b"s,t\n3,4\n"

    def test_pages_answer_html_errors_and_the_api_json(self, topo, accounts):
        page = requests.get(f"{topo.base_url}/nobody-here", timeout=10)
        assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
        assert _error(page.text) == "User not found"
        api = requests.get(f"{topo.api_url}/package/{OWNER}/nothing", timeout=10)
        assert api.status_code == 404 and api.json() == {"error": "Package not found"}
        # pages carry a CSP without script
        csp = page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp

    def test_login_is_no_open_redirect(self, topo, accounts):
        s = requests.Session()
        token = form_token(s.get(f"{topo.base_url}/login?next=//evil.example/x", timeout=10).text)
        for target, expected in (("//evil.example/x", f"/{OWNER}"), ("https://evil.example/", f"/{OWNER}"), ("/settings/tokens", "/settings/tokens")):
            r = s.post(f"{topo.base_url}/login", data={"csrf_token": token, "login": OWNER, "password": OWNER_PW, "next": target},
                       allow_redirects=False, timeout=10)
            assert r.status_code == 303 and r.headers["Location"] == expected
            token = form_token(s.get(f"{topo.base_url}/login", timeout=10).text)

    def test_wrong_password_is_a_form_error(self, topo, accounts):
        s = requests.Session()
        token = form_token(s.get(f"{topo.base_url}/login", timeout=10).text)
        r = s.post(f"{topo.base_url}/login", data={"csrf_token": token, "login": OWNER, "password": "nope-nope"}, timeout=10)
        assert r.status_code == 401 and "wrong login or password" in r.text
        assert "pkgcloud_session" not in s.cookies

    def test_delete_a_package_needs_its_name_typed(self, topo, accounts):
        api_upload(topo.api_url, accounts, OWNER, "doomed", "1", "doomed.csv", b"x\n", "file", summary="Doomed")
        s = web_login(topo.base_url, OWNER, OWNER_PW)
        token = form_token(s.get(f"{topo.base_url}/{OWNER}/doomed", timeout=10).text)
        r = s.post(f"{topo.base_url}/{OWNER}/doomed/delete", data={"csrf_token": token, "confirm": "wrong"}, timeout=10)
        assert r.status_code == 400 and "type the package name" in r.text
        assert requests.get(f"{topo.api_url}/package/{OWNER}/doomed", timeout=10).status_code == 200
        r = s.post(f"{topo.base_url}/{OWNER}/doomed/delete", data={"csrf_token": token, "confirm": "doomed"}, allow_redirects=False, timeout=10)
        assert r.status_code == 303 and r.headers["Location"] == f"/{OWNER}"
        assert requests.get(f"{topo.api_url}/package/{OWNER}/doomed", timeout=10).status_code == 404


def _error(html: str) -> str:
    m = re.search(r'id="error-message">([^<]*)<', html)
    return m.group(1) if m else ""
