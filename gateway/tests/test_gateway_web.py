"""The web UI's place in host routing: its pages live on the bare domain only, and never shadow
a protocol host's routes (aiohttp tries domain sub-apps after the root's own routes)."""

from __future__ import annotations

from gateway_fakes import BASE_DOMAIN


async def test_pages_answer_on_the_bare_domain(client):
    r = await client.get("/login", headers={"Host": f"{BASE_DOMAIN}:8080"})
    assert r.status == 200 and r.content_type == "text/html"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert "pkgcloud_presession=" in r.headers["Set-Cookie"]


async def test_protocol_hosts_keep_their_routes(client):
    r = await client.get("/authentication-type", headers={"Host": f"api.{BASE_DOMAIN}"})
    assert await r.json() == {"authentication_type": "password"}
    r = await client.get("/alice/whatever", headers={"Host": f"conda.{BASE_DOMAIN}"})
    assert r.status == 404 and r.content_type == "application/json"


async def test_a_post_without_csrf_token_is_a_403_page(client):
    r = await client.post("/logout", headers={"Host": BASE_DOMAIN}, data={})
    assert r.status == 403 and r.content_type == "text/html"
    assert "security token" in await r.text()


async def test_an_unknown_owner_is_an_html_404(client):
    r = await client.get("/nobody-at-all", headers={"Host": BASE_DOMAIN})
    assert r.status == 404 and r.content_type == "text/html"
