"""Every error is JSON {"error": ...} with the right status, whatever raised it."""

from __future__ import annotations

import io
import logging

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pkgcloud_gateway.app import init_app
from pkgcloud_gateway.clients import Clients


async def test_unknown_path_is_json_404(client):
    r = await client.get("/no/such/thing")
    assert r.status == 404
    assert await r.json() == {"error": "Not found"}


async def test_wrong_method_is_json_405_with_allow(client):
    r = await client.put("/api/authentication-type")
    assert r.status == 405
    assert await r.json() == {"error": "Method not allowed"}
    assert "GET" in r.headers["Allow"]


async def test_unexpected_exception_is_500_without_traceback(settings, blobs, peer_addresses, caplog):
    clients = Clients.open(peer_addresses)
    app = init_app(settings, clients, blobs)

    async def boom(request):
        raise RuntimeError("secret internals /etc/passwd")

    app.router.add_get("/boom", boom)
    try:
        async with TestClient(TestServer(app)) as c:
            with caplog.at_level(logging.ERROR):
                r = await c.get("/boom")
            assert r.status == 500
            text = await r.text()
            assert await r.json() == {"error": "internal server error"}
            assert "secret" not in text and "Traceback" not in text
            assert any("secret internals" in (rec.exc_text or "") or rec.exc_info for rec in caplog.records)
    finally:
        await clients.close()


async def test_domain_errors_keep_their_status_and_message(client, alice):
    # Conflict from the backend, through gRPC
    body = {"login": "carol", "email": "c@example.com", "password": "pw-carol-1"}
    assert (await client.post("/api/user", json=body)).status == 201
    r = await client.post("/api/user", json=body)
    assert r.status == 409
    assert "already exists" in (await r.json())["error"]
    # Invalid from the backend
    r = await client.post("/api/user", json={**body, "login": "no way"})
    assert r.status == 400 and (await r.json())["error"]
    # NotFound, with the gateway's fixed message
    r = await client.get("/api/user/nobody")
    assert r.status == 404 and await r.json() == {"error": "User not found"}
    # Invalid raised in the gateway itself
    r = await client.post("/api/package/alice/x", data=b"{not json", headers=alice)
    assert r.status == 400 and await r.json() == {"error": "the request body is not valid JSON"}
    r = await client.post("/api/package/alice/x", data=b"[1]", headers=alice)
    assert r.status == 400 and await r.json() == {"error": "the request body must be a JSON object"}


async def test_backend_down_is_503_json(settings, blobs):
    clients = Clients.open({name: "127.0.0.1:9" for name in ("auth", "registry", "index", "render")})
    try:
        async with TestClient(TestServer(init_app(settings, clients, blobs))) as c:
            r = await c.get("/api/user/alice")
            assert r.status == 503
            assert await r.json() == {"error": "a backend service is unavailable"}
    finally:
        await clients.close()


async def test_redirects_pass_through_untouched(settings, blobs, peer_addresses):
    clients = Clients.open(peer_addresses)
    app = init_app(settings, clients, blobs)

    async def go(request):
        raise web.HTTPFound("/elsewhere")

    app.router.add_get("/go", go)
    try:
        async with TestClient(TestServer(app)) as c:
            r = await c.get("/go", allow_redirects=False)
            assert r.status == 302 and r.headers["Location"] == "/elsewhere"
            assert r.headers["X-Request-Id"]
    finally:
        await clients.close()


async def test_oversized_json_body_is_json_413(client, alice):
    r = await client.post("/api/package/alice/x", data=io.BytesIO(b" " * (9 * 1024 * 1024)), headers=alice)
    assert r.status == 413
    assert await r.json() == {"error": "Request body too large"}
