"""Bad input through the gateway: each answer is a 4xx whose JSON `error` the client prints,
and nothing is left half-written. Written once, run against every topology."""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests

PASSWORD = "dave-password-1"


class BadInputCases:
    topology: str

    @pytest.fixture(scope="class")
    def dave(self, topo, tmp_path_factory):
        assert topo.pkgcloud("admin", "create-user", "dave", "--password", PASSWORD, "--email", "d@example.com").returncode == 0
        r = requests.post(f"{topo.api_url}/authentications", auth=("dave", PASSWORD), json={"note": "bad-input-tests"}, timeout=10)
        assert r.status_code == 200, r.text
        token = r.json()["token"]
        s = requests.Session()
        s.headers["Authorization"] = f"token {token}"
        # one package and release to stage against
        assert s.post(f"{topo.api_url}/package/dave/pkg", json={"public": True, "publish": False, "public_attrs": {"summary": "s", "package_types": ["file"]}}).status_code == 200
        assert s.post(f"{topo.api_url}/release/dave/pkg/1.0", json={"requirements": [], "announce": None, "description": ""}).status_code == 200
        return s

    def _state(self, topo, s):
        """What dave owns, for 'nothing changed' checks."""
        pkgs = s.get(f"{topo.api_url}/packages/dave").json()
        return sorted((p["full_name"], tuple(sorted(f["basename"] for f in p.get("files", [])))) for p in pkgs)

    @staticmethod
    def _assert_json_error(r, *statuses):
        assert r.status_code in statuses, (r.status_code, r.text)
        body = r.json()
        assert isinstance(body.get("error"), str) and body["error"], body

    def test_unknown_owner_404(self, topo, dave):
        self._assert_json_error(dave.get(f"{topo.api_url}/user/nobody-here"), 404)
        self._assert_json_error(dave.get(f"{topo.api_url}/package/nobody-here/x"), 404)
        self._assert_json_error(requests.get(f"{topo.api_url}/packages/nobody-here"), 404)

    def test_wrong_password_401(self, topo):
        self._assert_json_error(requests.post(f"{topo.api_url}/authentications", auth=("dave", "nope-nope"), json={}), 401)
        self._assert_json_error(requests.post(f"{topo.api_url}/authentications", auth=("nobody-here", "nope-nope"), json={}), 401)

    def test_malformed_json_400(self, topo, dave):
        before = self._state(topo, dave)
        r = dave.post(f"{topo.api_url}/package/dave/broken", data=b"{not json", headers={"Content-Type": "application/json"})
        self._assert_json_error(r, 400)
        r = dave.post(f"{topo.api_url}/stage/dave/pkg/1.0/x.txt", data=b"[1, 2", headers={"Content-Type": "application/json"})
        self._assert_json_error(r, 400)
        assert self._state(topo, dave) == before

    @pytest.mark.parametrize("name", ["a%2Fb", "..", "%2E%2E", "bad%01name", "x" * 300, "tab%09name"])
    def test_bad_package_names(self, topo, dave, name):
        before = self._state(topo, dave)
        r = dave.post(f"{topo.api_url}/package/dave/{name}", json={"public": True, "public_attrs": {"summary": "s"}})
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        assert r.json()["error"]
        assert self._state(topo, dave) == before

    @pytest.mark.parametrize("basename", ["%2E%2E/%2E%2E/etc/passwd", "/abs.txt", "a//b.txt", "ctl%07.txt", "y" * 300])
    def test_bad_basenames(self, topo, dave, basename):
        body = {"distribution_type": "file", "attrs": {}, "channels": [], "sha256": "0" * 64}
        r = dave.post(f"{topo.api_url}/stage/dave/pkg/1.0/{basename}", json=body)
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        assert r.json()["error"]

    def test_bad_version_and_sha(self, topo, dave):
        body = {"distribution_type": "file", "attrs": {}, "channels": [], "sha256": "not-a-sha"}
        self._assert_json_error(dave.post(f"{topo.api_url}/stage/dave/pkg/1.0/x.txt", json=body), 400)
        self._assert_json_error(dave.post(f"{topo.api_url}/release/dave/pkg/" + "9" * 300, json={}), 400)

    def test_write_to_someone_elses_namespace(self, topo, dave):
        assert topo.pkgcloud("admin", "create-user", "erin", "--password", "erin-password-1", "--email", "e@example.com").returncode == 0
        r = dave.post(f"{topo.api_url}/package/erin/mine", json={"public": True, "public_attrs": {"summary": "s"}})
        assert r.status_code in (401, 403, 404) and r.json()["error"]
        r = requests.post(f"{topo.api_url}/package/erin/mine", json={"public": True, "public_attrs": {"summary": "s"}})
        self._assert_json_error(r, 401, 403)

    def _stage(self, topo, dave, basename, data):
        body = {"distribution_type": "file", "description": None, "attrs": {}, "dependencies": None,
                "channels": [], "sha256": hashlib.sha256(data).hexdigest()}
        r = dave.post(f"{topo.api_url}/stage/dave/pkg/1.0/{basename}", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def _form_post(self, staged, data, basename, *, md5=None, length=None):
        fields = list(staged["form_data"].items())
        fields.append(("Content-Length", str(len(data) if length is None else length)))
        fields.append(("Content-MD5", md5 or base64.b64encode(hashlib.md5(data).digest()).decode()))
        files = [(k, (None, v)) for k, v in fields] + [("file", (basename, data))]
        return requests.post(staged["post_url"], files=files, timeout=30)

    def test_commit_without_upload(self, topo, dave):
        before = self._state(topo, dave)
        staged = self._stage(topo, dave, "never.txt", b"never uploaded\n")
        r = dave.post(f"{topo.api_url}/commit/dave/pkg/1.0/never.txt", json={"dist_id": staged["dist_id"]})
        self._assert_json_error(r, 400, 404)
        assert self._state(topo, dave) == before

    def test_commit_with_unknown_dist_id(self, topo, dave):
        r = dave.post(f"{topo.api_url}/commit/dave/pkg/1.0/x.txt", json={"dist_id": "no-such-dist"})
        self._assert_json_error(r, 400, 404)

    def test_uploaded_bytes_differ_from_stage(self, topo, dave):
        before = self._state(topo, dave)
        staged = self._stage(topo, dave, "differs.txt", b"what was announced\n")
        other = b"something else entirely\n"
        up = self._form_post(staged, other, "differs.txt")
        assert up.status_code == 201, up.text
        r = dave.post(f"{topo.api_url}/commit/dave/pkg/1.0/differs.txt", json={"dist_id": staged["dist_id"]})
        self._assert_json_error(r, 400)
        assert "checksum" in r.json()["error"].lower() or "sha256" in r.json()["error"].lower()
        assert self._state(topo, dave) == before

    def test_form_post_without_stage(self, topo, dave):
        staged = self._stage(topo, dave, "nostage.txt", b"x\n")
        if topo.name == "split":
            pytest.skip("the form goes to the S3 endpoint here; its policy, not the gateway, guards it")
        forged = dict(staged, form_data={**staged["form_data"], "key": "uploads/forged-key"})
        r = self._form_post(forged, b"x\n", "nostage.txt")
        assert r.status_code == 403 and b"<Code>" in r.content

    def test_form_post_size_and_md5_mismatch(self, topo, dave):
        if topo.name == "split":
            pytest.skip("the form goes to the S3 endpoint here; the commit's checksum check guards it")
        before = self._state(topo, dave)
        data = b"twelve bytes"
        staged = self._stage(topo, dave, "sizes.txt", data)
        r = self._form_post(staged, data, "sizes.txt", length=99)
        assert r.status_code == 400 and b"<Code>" in r.content
        r = self._form_post(staged, data, "sizes.txt", md5=base64.b64encode(b"0" * 16).decode())
        assert r.status_code == 400 and b"<Code>BadDigest</Code>" in r.content
        r = dave.post(f"{topo.api_url}/commit/dave/pkg/1.0/sizes.txt", json={"dist_id": staged["dist_id"]})
        self._assert_json_error(r, 400)
        assert self._state(topo, dave) == before
        leftovers = [p for p in (topo.data_dir / "blobs").rglob("*") if p.is_file() and "uploads" in p.parts]
        assert leftovers == []
