"""Access is declared where a route is registered (access.py): a route without a rule cannot
be registered, and a gateway holding one does not start."""

from __future__ import annotations

import base64

import pytest
from aiohttp import web
from pkgcloud_gateway import access
from pkgcloud_gateway import app as gateway_app
from pkgcloud_gateway.clients import Clients
from pkgcloud_gateway.routing import add_route


async def _hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


def test_add_route_refuses_a_route_without_a_rule():
    app = web.Application()
    with pytest.raises(access.RouteWithoutRule, match="_hello"):
        add_route(app.router, "GET", "/x", _hello, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        add_route(app.router, "GET", "/x", _hello)  # type: ignore[call-arg]
    assert not list(app.router.routes())


async def test_a_route_added_around_the_rules_stops_the_start(settings, blobs, peer_addresses, monkeypatch):
    def sneaky_factory() -> web.Application:
        sub = web.Application()
        add_route(sub.router, "GET", "/fine", _hello, access.PROBE)
        sub.router.add_post("/{owner}/sneaky", _hello)  # no rule
        return sub

    monkeypatch.setitem(gateway_app.PROTOCOL_FACTORIES, "envs", sneaky_factory)
    clients = Clients.open(peer_addresses)
    try:
        with pytest.raises(access.RouteWithoutRule) as refused:
            gateway_app.init_app(settings, clients, blobs)
        message = str(refused.value)
        assert "POST /envs/{owner}/sneaky" in message and "/fine" not in message
    finally:
        await clients.close()


async def test_every_route_of_the_gateway_has_a_rule(app):
    rules = access.route_rules(app)
    assert len(rules) > 100
    assert all(isinstance(rule, access.Rule) for rule in rules.values())
    # the twins share their route's rule
    assert rules[("POST", "/api/channels/{owner}/{label}/lock")] is access.LABELS_WRITE
    assert rules[("POST", "/api/t/{_path_token}/channels/{owner}/{label}/lock")] is access.LABELS_WRITE
    assert rules[("HEAD", "/conda/{owner}/{path}")] is access.CONDA_READ


async def test_refusal_comes_before_the_body_is_read(client, fake_auth):
    """A stranger's request with a malformed body is refused, not told about the body."""
    fake_auth.add_user("alice", "pw")
    fake_auth.add_user("eve", "pw")
    eve = {"Authorization": f"token {fake_auth.add_token('eve')}"}
    for method, path in (("POST", "/api/channels/alice/dev"), ("POST", "/api/package/alice/p"), ("POST", "/api/stage/alice/p/1/x.txt")):
        r = await client.request(method, path, data=b"{not json", headers=eve)
        assert r.status == 403, (path, r.status, await r.text())
        assert "JSON" not in (await r.json())["error"]
        r = await client.request(method, path, data=b"{not json")
        assert r.status == 401, (path, r.status)


def _ci_token(fake_auth, login: str) -> str:
    """What a CI job installing private packages holds (issue 11): channel reads only."""
    token = fake_auth.add_token(login, name="ci")
    info = next(t for t in fake_auth.tokens.values() if t.name == "ci" and t.login == login)
    info.scopes[:] = ["conda:download", "pypi:download"]
    return token


ISSUE_WRITES = [
    ("POST", "/api/channels/alice/dev/lock"),
    ("DELETE", "/api/channels/alice/dev/lock"),
    ("POST", "/api/channels/alice/dev/copy/main"),
    ("POST", "/api/channels/alice/dev"),
    ("POST", "/api/organizations"),
    ("DELETE", "/api/authentications/name/other"),
    ("POST", "/api/package/alice/p"),
    ("POST", "/api/stage/alice/p/1.0/p-1.0.tar.gz"),
    ("POST", "/pypi/alice/yank/p/1.0/"),
    ("DELETE", "/pypi/alice/yank/p/1.0/"),
]


@pytest.mark.parametrize(("method", "path"), ISSUE_WRITES, ids=[f"{m} {p}" for m, p in ISSUE_WRITES])
async def test_a_download_token_changes_nothing(client, fake_auth, method, path):
    fake_auth.add_user("alice", "pw")
    token = _ci_token(fake_auth, "alice")
    for headers, url in (({"Authorization": f"token {token}"}, path),
                         ({"Authorization": "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()}, path),
                         ({}, path.replace("/api/", f"/api/t/{token}/", 1).replace("/pypi/", f"/pypi/t/{token}/", 1))):
        r = await client.request(method, url, data=b"{not json", headers=headers)
        assert r.status == 403, (url, r.status, await r.text())
        assert "scope" in (await r.json())["error"]


async def test_twine_with_a_download_token_is_refused_before_the_body(client, fake_auth):
    fake_auth.add_user("alice", "pw")
    token = _ci_token(fake_auth, "alice")
    auth = {"Authorization": "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()}
    r = await client.post("/pypi/alice/", data=b"not multipart", headers={**auth, "Content-Type": "text/plain"})
    assert r.status == 403 and "pypi:upload" in r.reason, (r.status, r.reason)


async def test_an_org_rule_asks_about_the_org_not_the_package_in_its_path(client, fake_auth):
    """PUT /group/<org>/<group>/packages/<package> acts on the org's groups: the permission
    asked of auth-svc is the one on the org (package ""), whatever package the path names."""
    fake_auth.add_user("bob", "pw")
    bob = {"Authorization": f"token {fake_auth.add_token('bob')}"}
    r = await client.put("/api/group/acme/team/packages/somepkg", headers=bob)
    assert r.status == 404  # bob is no member of acme: the answer a missing group gets
    assert fake_auth.permission_asks == [("bob", "acme", "")]
    r = await client.delete("/api/package/acme/somepkg", headers=bob)
    assert r.status == 403
    assert fake_auth.permission_asks[-1] == ("bob", "acme", "somepkg")


async def test_every_route_uses_a_rule_of_the_table(app):
    """Rules are the named constants of access.py, never made up at a registration site: the
    table reads in one place."""
    names = access.named_rules()
    stray = sorted(f"{m} {p}" for (m, p), rule in access.route_rules(app).items() if id(rule) not in names)
    assert not stray, stray
    table = access.describe(app)
    assert "POST   /api/channels/{owner}/{label}/lock" in table and "LABELS_WRITE" in table
    assert "(unnamed)" not in table and "(none)" not in table
