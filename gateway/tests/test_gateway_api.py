"""The anaconda API's statuses and shapes, and the access policy behind them."""

from __future__ import annotations

import hashlib

from aiohttp.test_utils import TestClient, TestServer
from gateway_fakes import BASE_DOMAIN
from pkgcloud_gateway.app import init_app
from pkgcloud_gateway.clients import Clients
from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore

PKG_BODY = {"public": True, "publish": False, "public_attrs": {"summary": "My summary", "package_types": ["file"],
                                                               "license": {"name": None, "url": None, "family": None}}}


async def _package(client, headers, name="hello", public=True):
    r = await client.post(f"/api/package/alice/{name}", headers=headers, json={**PKG_BODY, "public": public})
    assert r.status == 200, await r.text()
    return await r.json()


async def test_package_release_lifecycle_statuses(client, alice):
    assert (await client.get("/api/package/alice/hello", headers=alice)).status == 404
    pkg = await _package(client, alice)
    assert pkg["owner"]["login"] == "alice" and pkg["full_name"] == "alice/hello"
    assert pkg["package_types"] == ["file"] and pkg["files"] == [] and pkg["releases"] == []
    for key in ("latest_version", "conda_platforms", "builds", "public", "summary", "name"):
        assert key in pkg
    assert (await client.post("/api/package/alice/hello", headers=alice, json=PKG_BODY)).status == 409

    r = await client.get("/api/release/alice/hello/1.0", headers=alice)
    assert r.status == 404 and await r.json() == {"error": "Release not found"}
    r = await client.post("/api/release/alice/hello/1.0", headers=alice, json={"requirements": [], "announce": None, "description": "", "summary": "s"})
    assert r.status == 200
    rel = await r.json()
    assert rel["version"] == "1.0" and rel["distributions"] == []
    r = await client.patch("/api/release/alice/hello/1.0", headers=alice, json={"public_attrs": {"description": "new"}})
    assert r.status == 200 and (await r.json())["public_attrs"]["description"] == "new"
    r = await client.patch("/api/package/alice/hello", headers=alice, json={"public_attrs": {"summary": "x"}})
    assert r.status == 200
    pkg = await (await client.get("/api/package/alice/hello", headers=alice)).json()
    assert [x["version"] for x in pkg["releases"]] == ["1.0"] and pkg["latest_version"] == "1.0"

    r = await client.get("/api/dist/alice/hello/1.0/nothing.txt", headers=alice)
    assert r.status == 404 and await r.json() == {"error": "Distribution not found"}
    r = await client.delete("/api/release/alice/hello/1.0", headers=alice)
    assert r.status == 201
    r = await client.delete("/api/package/alice/hello", headers=alice)
    assert r.status == 201
    r = await client.get("/api/package/alice/hello", headers=alice)
    assert r.status == 404 and await r.json() == {"error": "Package not found"}


async def test_writes_need_the_owner(client, alice, bob):
    r = await client.post("/api/package/alice/hello", json=PKG_BODY)
    assert r.status == 401 and (await r.json())["error"]
    r = await client.post("/api/package/alice/hello", headers=bob, json=PKG_BODY)
    assert r.status == 403 and (await r.json())["error"]
    await _package(client, alice)
    for method, path in (("DELETE", "/api/package/alice/hello"), ("POST", "/api/release/alice/hello/2"),
                         ("POST", "/api/stage/alice/hello/2/x.txt"), ("DELETE", "/api/dist/alice/hello/2/x.txt")):
        r = await client.request(method, path, headers=bob, json={})
        assert r.status == 403, (method, path)


async def test_private_package_looks_missing_to_others(client, alice, bob):
    await _package(client, alice, "secret", public=False)
    await _package(client, alice, "open", public=True)
    assert (await client.get("/api/package/alice/secret", headers=alice)).status == 200
    missing = await client.get("/api/package/alice/nothing-here", headers=bob)
    for headers in (bob, {}):
        r = await client.get("/api/package/alice/secret", headers=headers)
        assert r.status == missing.status == 404
        assert await r.json() == await missing.json()
        r = await client.get("/api/release/alice/secret/1.0", headers=headers)
        assert r.status == 404 and await r.json() == {"error": "Release not found"}
    listed = await (await client.get("/api/packages/alice", headers=bob)).json()
    assert [p["full_name"] for p in listed] == ["alice/open"]
    listed = await (await client.get("/api/packages/alice", headers=alice)).json()
    assert sorted(p["full_name"] for p in listed) == ["alice/open", "alice/secret"]
    r = await client.get("/api/packages/nobody-here")
    assert r.status == 404 and (await r.json())["error"]


async def test_users(client, alice):
    me = await (await client.get("/api/user", headers=alice)).json()
    assert me["login"] == "alice" and me["created_at"].endswith("+00:00") and me["user_type"] == "user"
    other = await (await client.get("/api/user/alice")).json()
    assert "email" not in other and other["login"] == "alice" and "description" in other
    assert await (await client.get("/api/users/alice/orgs")).json() == []
    r = await client.post("/api/user", json={"login": "newbie", "email": "n@example.com", "password": "pw-newbie-1"})
    assert r.status == 201 and (await r.json())["login"] == "newbie"
    r = await client.post("/api/user", json={"login": "x"})
    assert r.status == 400


async def test_stage_validates_and_builds_absolute_form_url(client, alice, settings):
    await _package(client, alice)
    await client.post("/api/release/alice/hello/1.0", headers=alice, json={})
    body = {"distribution_type": "file", "attrs": {}, "channels": [], "sha256": "not-a-sha"}
    r = await client.post("/api/stage/alice/hello/1.0/x.txt", headers=alice, json=body)
    assert r.status == 400 and "sha256" in (await r.json())["error"]
    body["sha256"] = "0" * 64
    r = await client.post("/stage/alice/hello/1.0/x.txt", headers={**alice, "Host": f"api.{BASE_DOMAIN}"}, json=body)
    assert r.status == 200
    assert (await r.json())["post_url"] == f"http://api.{BASE_DOMAIN}/upload-form"
    body["channels"] = "dev"
    r = await client.post("/api/stage/alice/hello/1.0/x.txt", headers=alice, json=body)
    assert r.status == 400


async def test_public_url_drives_absolute_urls(settings, blobs, peer_addresses, fake_auth):
    fake_auth.add_user("alice", "pw")
    tok = {"Authorization": f"token {fake_auth.add_token('alice')}"}
    settings.public_url = "https://pkgs.example.com"
    clients = Clients.open(peer_addresses)
    try:
        async with TestClient(TestServer(init_app(settings, clients, blobs))) as c:
            await _package(c, tok)
            await c.post("/api/release/alice/hello/1.0", headers=tok, json={})
            r = await c.post("/api/stage/alice/hello/1.0/x.txt", headers=tok, json={"sha256": "0" * 64})
            assert (await r.json())["post_url"] == "https://pkgs.example.com/api/upload-form"
    finally:
        await clients.close()


class PresigningStore(FilesystemBlobStore):
    """A filesystem store that claims to presign: exercises the gateway's redirect branch."""

    supports_presigned = True

    async def presigned_get_url(self, key, *, expires_s=600, filename=None):
        return f"https://blobs.example.com/{key}?sig=1&filename={filename}"


async def test_download_redirects_when_the_store_presigns(settings, peer_addresses, fake_auth, fake_registry, tmp_path):
    blobs = PresigningStore(tmp_path / "presign")
    fake_registry.blobs = blobs
    fake_auth.add_user("alice", "pw")
    tok = {"Authorization": f"token {fake_auth.add_token('alice')}"}
    clients = Clients.open(peer_addresses)
    try:
        async with TestClient(TestServer(init_app(settings, clients, blobs))) as c:
            await _package(c, tok, public=False)
            await c.post("/api/release/alice/hello/1.0", headers=tok, json={})
            data = b"x" * 10
            sha = hashlib.sha256(data).hexdigest()
            staged = await (await c.post("/api/stage/alice/hello/1.0/f.txt", headers=tok, json={"sha256": sha})).json()
            await blobs.put_bytes(staged["form_data"]["key"], data)
            assert (await c.post("/api/commit/alice/hello/1.0/f.txt", headers=tok, json={"dist_id": staged["dist_id"]})).status == 200
            r = await c.get("/api/download/alice/hello/1.0/f.txt", headers=tok, allow_redirects=False)
            assert r.status == 302
            assert r.headers["Location"].startswith("https://blobs.example.com/files/sha256/")
            # private: anonymous gets the same 404 as a missing file
            r = await c.get("/api/download/alice/hello/1.0/f.txt", allow_redirects=False)
            assert r.status == 404 and await r.json() == {"error": "File not found"}
    finally:
        await clients.close()


async def test_delete_dist_answers_200_with_json(client, alice, fake_registry, blobs):
    await _package(client, alice)
    await client.post("/api/release/alice/hello/1.0", headers=alice, json={})
    data = b"bytes\n"
    staged = await (await client.post("/api/stage/alice/hello/1.0/a.txt", headers=alice, json={"sha256": hashlib.sha256(data).hexdigest()})).json()
    await blobs.put_bytes(staged["form_data"]["key"], data)
    assert (await client.post("/api/commit/alice/hello/1.0/a.txt", headers=alice, json={"dist_id": staged["dist_id"]})).status == 200
    r = await client.delete("/api/dist/alice/hello/1.0/a.txt", headers=alice)
    assert r.status == 200 and (await r.json())["basename"] == "a.txt"
    r = await client.delete("/api/dist/alice/hello/1.0/a.txt", headers=alice)
    assert r.status == 404
