"""api_accounts.py (tokens, accounts, organizations, groups) and the org write check,
through the real app and the real auth-svc (AuthCore on SQLite behind its gRPC servicer),
with the in-process event bus carrying token.revoked to the credential cache."""

from __future__ import annotations

import argon2
import pytest
from aiohttp.test_utils import TestClient, TestServer
from gateway_fakes import FakeRegistry, basic
from pkgcloud_auth.core import AuthCore
from pkgcloud_auth.passwords import Passwords
from pkgcloud_auth.servicer import AuthServiceServicer
from pkgcloud_auth.store.sqlite import SqliteAuthStore
from pkgcloud_gateway.app import init_app
from pkgcloud_gateway.clients import PEERS, Clients
from pkgcloud_protos.v1 import auth_pb2_grpc, registry_pb2_grpc
from pkgcloud_servicekit.eventbus.inprocess import InProcessEventBus
from pkgcloud_servicekit.grpc_plumbing import GrpcServer
from pkgcloud_servicekit.settings import Settings

PW = "password-123"


@pytest.fixture
async def auth_core(tmp_path):
    store = SqliteAuthStore(tmp_path / "auth.sqlite3")
    await store.open()
    bus = InProcessEventBus(max_attempts=1)
    await bus.start()
    hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    core = AuthCore(store, bus, passwords=Passwords(hasher), login_failure_limit=3, addr_failure_limit=100)
    for login in ("alice", "bob", "carol"):
        await core.create_user(login, f"{login}@example.com", PW)
    yield core
    await bus.close()
    await store.close()


async def _client(tmp_path, auth_core, blobs, *, bus):
    server = GrpcServer("127.0.0.1:0", [
        (auth_pb2_grpc.add_AuthServiceServicer_to_server, AuthServiceServicer(auth_core), "pkgcloud.v1.AuthService"),
        (registry_pb2_grpc.add_RegistryServiceServicer_to_server, FakeRegistry(blobs), "pkgcloud.v1.RegistryService"),
    ])
    await server.start()
    clients = Clients.open({name: f"127.0.0.1:{server.bound_port}" for name in PEERS})
    # a long cache TTL: only the revocation event or the access epoch can make a revoked
    # token stop working here
    app = init_app(Settings(data_dir=tmp_path, credential_cache_ttl_s=300.0), clients, blobs, bus=bus)
    async with TestClient(TestServer(app)) as c:
        yield c
    await clients.close()
    await server.stop(0)


@pytest.fixture
async def client(tmp_path, auth_core, blobs):
    async for c in _client(tmp_path, auth_core, blobs, bus=auth_core.bus):
        yield c


@pytest.fixture
async def client_without_events(tmp_path, auth_core, blobs):
    """As a gateway process that gets no events (an extra PKGCLOUD_GATEWAY_PROCESSES worker
    whose sibling handled the change): only the access epoch tells it."""
    async for c in _client(tmp_path, auth_core, blobs, bus=None):
        yield c


async def login(client, who: str, **body) -> str:
    r = await client.post("/api/authentications", headers=basic(who, PW), json={"note": "t", **body})
    assert r.status == 200, await r.text()
    return (await r.json())["token"]


def tok(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


# --- tokens ---------------------------------------------------------------------------

async def test_bearer_login_is_refused_so_the_client_falls_back(client):
    r = await client.post("/api/authentications", headers={"Authorization": "Bearer abc"}, json={})
    assert r.status == 401 and await r.json() == {"error": "Bearer token authentication is not enabled"}


async def test_token_create_list_info_remove(client):
    body = {"note": "ci", "scopes": ["api:read", "conda:download"], "max-age": 3600, "hostname": "h", "fail-if-exists": True}
    r = await client.post("/api/authentications", headers=basic("alice", PW), json=body)
    assert r.status == 200
    created = await r.json()
    token = created["token"]
    assert created["scopes"] == ["api:read", "conda:download"] and created["expires"]
    listed = await (await client.get("/api/authentications", headers=tok(token))).json()
    assert [(t["application"], t["scopes"], t["hostname"]) for t in listed] == [("ci", ["api:read", "conda:download"], "h")]
    assert all(set(t) >= {"id", "application", "remote_addr", "hostname", "expires", "scopes"} for t in listed)
    info = await (await client.get("/api/authentication", headers=tok(token))).json()
    assert info["application"] == "ci" and info["id"] == listed[0]["id"]
    other = await login(client, "alice")
    r = await client.delete("/api/authentications/name/ci", headers=tok(other))
    assert r.status == 201
    assert (await client.get("/api/user", headers=tok(token))).status == 401
    r = await client.delete("/api/authentications/name/ci", headers=tok(other))
    assert r.status == 404


async def test_unknown_scope_and_bad_max_age(client):
    r = await client.post("/api/authentications", headers=basic("alice", PW), json={"scopes": ["nope"]})
    assert r.status == 400 and "unknown scope" in (await r.json())["error"]
    r = await client.post("/api/authentications", headers=basic("alice", PW), json={"max-age": -1})
    assert r.status == 400


async def test_scopes_are_public(client):
    r = await client.get("/api/scopes")
    assert r.status == 200 and {"all", "api:read", "conda:download", "pypi:download", "repos"} <= set(await r.json())


async def test_every_token_form_and_immediate_revocation(client):
    token = await login(client, "alice")
    forms = [
        ("/api/user", tok(token)),
        ("/api/user", {"Authorization": f"Bearer {token}"}),
        ("/api/user", basic("__token__", token)),
        (f"/api/t/{token}/user", {}),
    ]
    for path, headers in forms:
        r = await client.get(path, headers=headers)
        assert r.status == 200 and (await r.json())["login"] == "alice", path
    # revoked through another token: the event evicts the gateway's cached entry
    other = await login(client, "alice", note="other")
    assert (await client.delete("/api/authentications/name/t", headers=tok(other))).status == 201
    for path, headers in forms:
        assert (await client.get(path, headers=headers)).status == 401, path


async def test_logout_revokes(client):
    token = await login(client, "alice")
    assert (await client.delete("/api/authentications", headers=tok(token))).status == 201
    assert (await client.get("/api/user", headers=tok(token))).status == 401


# --- accounts -------------------------------------------------------------------------

async def test_password_change_needs_the_old_password(client):
    token = await login(client, "bob")
    r = await client.post("/api/user/password", headers=tok(token), json={"old_password": "wrong-one-1", "new_password": "new-password-1"})
    assert r.status == 401
    r = await client.post("/api/user/password", headers=tok(token), json={"old_password": PW, "new_password": "new"})
    assert r.status == 400
    r = await client.post("/api/user/password", headers=tok(token), json={"old_password": PW, "new_password": "new-password-1"})
    assert r.status == 200
    assert (await client.post("/api/authentications", headers=basic("bob", PW), json={})).status == 401
    assert (await client.post("/api/authentications", headers=basic("bob", "new-password-1"), json={})).status == 200
    r = await client.post("/api/user/password", json={"old_password": PW, "new_password": "new-password-1"})
    assert r.status == 401


async def test_disabled_account_is_refused_everywhere(client, auth_core):
    token = await login(client, "carol")
    await auth_core.set_disabled("carol", True)
    r = await client.post("/api/authentications", headers=basic("carol", PW), json={})
    assert r.status == 403 and "disabled" in (await r.json())["error"]
    # (never resolved before, so not in the gateway's cache: auth-svc itself refuses it)
    r = await client.get("/api/user", headers=tok(token))
    assert r.status == 401 and "disabled" in (await r.json())["error"]
    assert (await client.get("/api/user", headers=basic("carol", PW))).status == 403


async def test_login_throttling_answers_429_json(client):
    for _ in range(3):
        assert (await client.post("/api/authentications", headers=basic("alice", "wrong-pass"), json={})).status == 401
    r = await client.post("/api/authentications", headers=basic("alice", PW), json={})
    assert r.status == 429 and "too many failed login attempts" in (await r.json())["error"]


# --- organizations and groups ---------------------------------------------------------

@pytest.fixture
async def acme(client):
    """acme, created by alice; the three users' token headers."""
    alice, bob, carol = [await login(client, w) for w in ("alice", "bob", "carol")]
    r = await client.post("/api/organizations", headers=tok(alice), json={"login": "acme", "description": "d"})
    assert r.status == 201 and (await r.json())["user_type"] == "org"
    return {"alice": tok(alice), "bob": tok(bob), "carol": tok(carol)}


async def test_org_profile_and_memberships(client, acme):
    assert (await (await client.get("/api/user/acme")).json())["user_type"] == "org"
    assert [o["login"] for o in await (await client.get("/api/users/alice/orgs")).json()] == ["acme"]
    assert await (await client.get("/api/users/bob/orgs")).json() == []
    assert [o["login"] for o in await (await client.get("/api/user/orgs", headers=acme["alice"])).json()] == ["acme"]
    r = await client.post("/api/organizations", headers=acme["bob"], json={"login": "acme"})
    assert r.status == 409


async def test_groups_commands_and_statuses(client, acme):
    a = acme["alice"]
    assert (await client.post("/api/group/acme/writers", headers=a, json={"perms": "write"})).status == 204
    assert (await client.put("/api/group/acme/writers/members/bob", headers=a)).status == 204
    assert (await client.get("/api/group/acme/writers/members/bob", headers=a)).status == 204
    assert (await client.get("/api/group/acme/writers/members/carol", headers=a)).status == 404
    members = await (await client.get("/api/group/acme/writers/members", headers=a)).json()
    assert members == [{"login": "bob", "name": ""}]
    groups = (await (await client.get("/api/groups/acme", headers=a)).json())["groups"]
    assert {g["name"]: g["permission"] for g in groups} == {"owners": "admin", "writers": "write"}
    # a package must exist before it joins a group
    assert (await client.put("/api/group/acme/writers/packages/hello", headers=a)).status == 404
    assert (await client.post("/api/package/acme/hello", headers=a, json={"public": True})).status == 200
    assert (await client.put("/api/group/acme/writers/packages/hello", headers=a)).status == 204
    pkgs = await (await client.get("/api/group/acme/writers/packages", headers=acme["bob"])).json()
    assert [p["full_name"] for p in pkgs] == ["acme/hello"]
    # bob (member) sees but may not change; carol (stranger) sees nothing
    assert (await client.get("/api/group/acme/writers", headers=acme["bob"])).status == 200
    # a group's package list may name private packages: only admins get it in group views
    as_member = await (await client.get("/api/group/acme/writers", headers=acme["bob"])).json()
    assert "packages" not in as_member
    assert all("packages" not in g for g in (await (await client.get("/api/groups/acme", headers=acme["bob"])).json())["groups"])
    as_admin = await (await client.get("/api/group/acme/writers", headers=a)).json()
    assert as_admin["packages"] == ["acme/hello"]
    assert (await client.put("/api/group/acme/writers/members/carol", headers=acme["bob"])).status == 403
    assert (await client.get("/api/groups/acme", headers=acme["carol"])).status == 404
    assert (await client.get("/api/groups/acme")).status == 404
    assert (await client.put("/api/group/acme/writers/members/carol", headers=acme["carol"])).status == 404
    assert (await client.post("/api/group/acme/x", json={})).status == 401
    assert (await client.post("/api/group/acme/x", headers=a, json={"perms": "owner"})).status == 400
    assert (await client.delete("/api/group/acme/writers/packages/hello", headers=a)).status == 204
    assert (await client.delete("/api/group/acme/writers/members/bob", headers=a)).status == 204
    assert (await client.delete("/api/group/acme/writers/members/bob", headers=a)).status == 404


async def test_org_writes_follow_groups(client, acme):
    a, b, c = acme["alice"], acme["bob"], acme["carol"]
    assert (await client.post("/api/package/acme/hello", headers=c, json={})).status == 403
    assert (await client.post("/api/package/acme/hello", headers=a, json={})).status == 200
    assert (await client.post("/api/release/acme/hello/1.0", headers=b, json={})).status == 403
    await client.post("/api/group/acme/writers", headers=a, json={"perms": "write"})
    await client.put("/api/group/acme/writers/members/bob", headers=a)
    await client.put("/api/group/acme/writers/packages/hello", headers=a)
    assert (await client.post("/api/release/acme/hello/1.0", headers=b, json={})).status == 200
    assert (await client.post("/api/package/acme/other", headers=b, json={})).status == 403
    # an owner adds another owner, who may then write everything
    assert (await client.put("/api/group/acme/owners/members/carol", headers=a)).status == 204
    assert (await client.post("/api/package/acme/other", headers=c, json={})).status == 200
    # the last owner cannot leave
    assert (await client.delete("/api/group/acme/owners/members/carol", headers=a)).status == 204
    r = await client.delete("/api/group/acme/owners/members/alice", headers=a)
    assert r.status == 400 and "last owner" in (await r.json())["error"]


async def test_org_tokens_by_its_admins(client, acme):
    r = await client.post("/api/authentications", headers=basic("alice", PW), json={"note": "ci", "user": "acme"})
    assert r.status == 200 and (await r.json())["user"] == "acme"
    org_token = (await r.json())["token"]
    assert (await client.post("/api/package/acme/built", headers=tok(org_token), json={})).status == 200
    assert (await client.post("/api/package/alice/x", headers=tok(org_token), json={})).status == 403
    r = await client.post("/api/authentications", headers=basic("bob", PW), json={"user": "acme"})
    assert r.status == 403
    assert (await client.delete("/api/authentications/org/acme/name/ci", headers=acme["bob"])).status == 403
    assert (await client.delete("/api/authentications/org/acme/name/ci", headers=acme["alice"])).status == 201
    assert (await client.post("/api/package/acme/built2", headers=tok(org_token), json={})).status == 401


async def test_changes_bite_at_once_without_any_event(client_without_events):
    client = client_without_events
    alice, bob = [await login(client, w) for w in ("alice", "bob")]
    a, b = tok(alice), tok(bob)
    assert (await client.post("/api/organizations", headers=a, json={"login": "acme"})).status == 201
    assert (await client.post("/api/package/acme/secret", headers=a, json={"public": False})).status == 200
    assert (await client.post("/api/group/acme/readers", headers=a, json={"perms": "read"})).status == 204
    assert (await client.put("/api/group/acme/readers/packages/secret", headers=a)).status == 204
    assert (await client.put("/api/group/acme/readers/members/bob", headers=a)).status == 204
    assert (await client.get("/api/package/acme/secret", headers=b)).status == 200  # bob's grant, now cached
    assert (await client.delete("/api/group/acme/readers/members/bob", headers=a)).status == 204
    assert (await client.get("/api/package/acme/secret", headers=b)).status == 404
    # a token removed by name, cached a moment ago: refused on the next request
    extra = await login(client, "bob", note="extra")
    assert (await client.get("/api/user", headers=tok(extra))).status == 200
    assert (await client.delete("/api/authentications/name/extra", headers=b)).status == 201
    assert (await client.get("/api/user", headers=tok(extra))).status == 401
