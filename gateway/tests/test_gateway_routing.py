"""Host routing and path-prefix routing reach the same handlers; /t/<token>/ works on both."""

from __future__ import annotations

import pytest
from gateway_fakes import BASE_DOMAIN


async def test_head_api_is_200_with_and_without_a_bad_token(client):
    assert (await client.head("/api")).status == 200
    assert (await client.head("/api", headers={"Authorization": "token nonsense"})).status == 200
    assert (await client.head("/api/")).status == 200
    assert (await client.head("/", headers={"Host": f"api.{BASE_DOMAIN}", "Authorization": "token bad"})).status == 200


@pytest.mark.parametrize("path,host", [("/api/authentication-type", None), ("/authentication-type", f"api.{BASE_DOMAIN}"),
                                       ("/authentication-type", f"API.{BASE_DOMAIN}:8080")])
async def test_same_handler_by_prefix_and_by_host(client, path, host):
    headers = {"Host": host} if host else {}
    r = await client.get(path, headers=headers)
    assert r.status == 200
    assert await r.json() == {"authentication_type": "password"}


async def test_protocol_hosts_do_not_see_other_prefixes(client):
    r = await client.get("/api/authentication-type", headers={"Host": f"conda.{BASE_DOMAIN}"})
    assert r.status == 404
    assert await r.json() == {"error": "Not found"}


@pytest.mark.parametrize("protocol", ["conda", "pypi", "notebooks", "envs"])
async def test_unwritten_protocols_answer_json_404(client, protocol):
    for path, headers in ((f"/{protocol}/alice/whatever", {}), ("/alice/whatever", {"Host": f"{protocol}.{BASE_DOMAIN}"})):
        r = await client.get(path, headers=headers)
        assert r.status == 404
        assert r.content_type == "application/json"
        assert (await r.json())["error"]


async def test_token_in_path_after_prefix_and_on_host(client, alice):
    token = alice["Authorization"].split()[1]
    r = await client.get(f"/api/t/{token}/user")
    assert r.status == 200 and (await r.json())["login"] == "alice"
    r = await client.get(f"/t/{token}/user", headers={"Host": f"api.{BASE_DOMAIN}"})
    assert r.status == 200 and (await r.json())["login"] == "alice"
    r = await client.get("/api/t/not-a-token/user")
    assert r.status == 401 and (await r.json())["error"]


async def test_request_id_echoed_or_made(client):
    r = await client.get("/api/authentication-type", headers={"X-Request-Id": "abc-123"})
    assert r.headers["X-Request-Id"] == "abc-123"
    r = await client.get("/nowhere")
    assert len(r.headers["X-Request-Id"]) == 32
    r = await client.get("/api/authentication-type", headers={"X-Request-Id": "bad id\twith junk"})
    assert r.headers["X-Request-Id"] != "bad id\twith junk"


async def test_metrics_count_by_route_pattern_not_by_path(client, alice):
    await client.get("/api/package/alice/one", headers=alice)
    await client.get("/package/alice/two", headers={**alice, "Host": f"api.{BASE_DOMAIN}"})
    text = await (await client.get("/metrics")).text()
    lines = [ln for ln in text.splitlines() if ln.startswith("pkgcloud_http_requests_total{") and "/api/package/{owner}/{package}" in ln]
    assert lines, text
    assert not any("alice/one" in ln for ln in text.splitlines())
    assert 'status="404"' in " ".join(lines)
    assert "pkgcloud_http_request_seconds_bucket" in text


async def test_path_tokens_never_reach_the_access_log(client, alice, caplog):
    token = alice["Authorization"].split()[1]
    with caplog.at_level("INFO", logger="pkgcloud_gateway.access"):
        await client.get(f"/api/t/{token}/user")
    assert caplog.records
    assert all(token not in r.getMessage() and token not in str(getattr(r, "fields", "")) for r in caplog.records)


async def test_healthz_ok_when_every_peer_serves(client):
    r = await client.get("/healthz")
    assert r.status == 200, await r.text()
    body = await r.json()
    assert set(body["peers"]) == {"auth", "registry", "index", "render"}


async def test_healthz_names_the_peer_that_is_down(settings, blobs, backend):
    from aiohttp.test_utils import TestClient, TestServer
    from pkgcloud_gateway.app import init_app
    from pkgcloud_gateway.clients import Clients

    clients = Clients.open({"auth": backend, "registry": backend, "render": backend, "index": "127.0.0.1:9"})
    try:
        async with TestClient(TestServer(init_app(settings, clients, blobs))) as c:
            r = await c.get("/healthz")
            assert r.status == 503
            body = await r.json()
            assert "index" in body["error"] and body["peers"]["auth"] == "SERVING"
    finally:
        await clients.close()


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("path,host,lands", [
    ("/conda/alice", None, "/alice"),
    ("/alice", "conda", "/alice"),
    ("/alice/label/dev/", "conda", "/alice?tab=labels&label=dev"),
    ("/pypi/alice/", None, "/alice"),
    ("/alice", "pypi", "/alice"),
], ids=["conda-prefix", "conda-host", "conda-host-label", "pypi-prefix", "pypi-host"])
async def test_a_browser_at_a_channel_url_is_sent_to_the_owner_page(client, path, host, lands):
    headers = {**BROWSER, **({"Host": f"{host}.{BASE_DOMAIN}"} if host else {})}
    r = await client.get(path, headers=headers, allow_redirects=False)
    assert r.status == 303 and r.headers["Vary"] == "Accept"
    location = r.headers["Location"]
    assert location.endswith(lands) and f"conda.{BASE_DOMAIN}" not in location and f"pypi.{BASE_DOMAIN}" not in location
    # a client of the machine formats gets what it always got there: nothing
    r = await client.get(path, headers={"Host": f"{host}.{BASE_DOMAIN}"} if host else {}, allow_redirects=False)
    assert r.status == 404 and (await r.json())["error"]
