"""Credential extraction in every form, resolution through auth-svc behind the cache."""

from __future__ import annotations

import base64
import hashlib

import pytest
from aiohttp.test_utils import make_mocked_request
from gateway_fakes import basic
from pkgcloud_gateway.credentials import PATH_TOKEN, Credential, CredentialResolver, extract_credential, token_hash
from pkgcloud_protos.v1 import auth_pb2_grpc
from pkgcloud_servicekit import errors
from pkgcloud_servicekit.grpc_plumbing import open_channel


class _MatchInfo(dict):
    pass


def _req(headers=None, path_token=None):
    req = make_mocked_request("GET", "/", headers=headers or {})
    if path_token is not None:
        req._match_info = _MatchInfo({PATH_TOKEN: path_token})
    return req


@pytest.mark.parametrize("header,expected", [
    ("token abc", Credential("token", "abc", scheme="token")),
    ("Token   abc ", Credential("token", "abc", scheme="token")),
    ("Bearer xyz", Credential("token", "xyz", scheme="bearer")),
    ("Basic " + base64.b64encode(b"__token__:tkn").decode(), Credential("token", "tkn", scheme="basic")),
    ("Basic " + base64.b64encode(b"alice:pa:ss").decode(), Credential("password", "pa:ss", login="alice", scheme="basic")),
])
def test_extract_from_header(header, expected):
    assert extract_credential(_req({"Authorization": header})) == expected


def test_no_credential_is_anonymous():
    assert extract_credential(_req()) is None


@pytest.mark.parametrize("header", ["token", "Bearer ", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(),
                                    "Basic " + base64.b64encode(b"__token__:").decode(), "Digest abc"])
def test_malformed_header_is_unauthenticated(header):
    with pytest.raises(errors.Unauthenticated):
        extract_credential(_req({"Authorization": header}))


def test_path_token_wins_over_header():
    cred = extract_credential(_req({"Authorization": "token from-header"}, path_token="from-path"))
    assert cred == Credential("token", "from-path", scheme="path")


async def test_resolver_caches_by_hash_and_honours_invalidate(backend, fake_auth):
    fake_auth.add_user("alice", "pw")
    token = fake_auth.add_token("alice")
    now = [100.0]
    async with open_channel(backend) as ch:
        resolver = CredentialResolver(auth_pb2_grpc.AuthServiceStub(ch), ttl_s=5, clock=lambda: now[0])
        p = await resolver.resolve_token(token)
        assert p.login == "alice"
        await resolver.resolve_token(token)
        assert fake_auth.resolve_calls == 1
        assert token not in resolver._cache and hashlib.sha256(token.encode()).hexdigest() in resolver._cache
        # revoked at the source: the cache still answers until the event (or the TTL) evicts it
        fake_auth.tokens.clear()
        assert (await resolver.resolve_token(token)).login == "alice"
        resolver.invalidate(token_hash(token))
        with pytest.raises(errors.Unauthenticated):
            await resolver.resolve_token(token)
        # refusals are cached too, then expire
        calls = fake_auth.resolve_calls
        with pytest.raises(errors.Unauthenticated):
            await resolver.resolve_token(token)
        assert fake_auth.resolve_calls == calls
        now[0] += 6
        with pytest.raises(errors.Unauthenticated):
            await resolver.resolve_token(token)
        assert fake_auth.resolve_calls == calls + 1


async def test_every_form_reaches_the_same_user(client, fake_auth, alice):
    token = alice["Authorization"].split()[1]
    forms = [
        ("/api/user", {"Authorization": f"token {token}"}),
        ("/api/user", {"Authorization": f"Bearer {token}"}),
        ("/api/user", basic("__token__", token)),
        ("/api/user", basic("alice", "alice-pw")),
        (f"/api/t/{token}/user", {}),
    ]
    for path, headers in forms:
        r = await client.get(path, headers=headers)
        assert r.status == 200, (path, headers, await r.text())
        assert (await r.json())["login"] == "alice"


async def test_bad_credentials_are_401_json(client, alice):
    for headers in ({"Authorization": "token nope"}, basic("alice", "wrong"), {"Authorization": "Basic ###"}):
        r = await client.get("/api/user/alice", headers=headers)
        assert r.status == 401, headers
        assert (await r.json())["error"]
    r = await client.get("/api/user")
    assert r.status == 401 and (await r.json())["error"]


async def test_expired_token_is_401(client, fake_auth):
    fake_auth.add_user("old", "pw")
    token = fake_auth.add_token("old", expires_at_ms=1)
    r = await client.get("/api/user", headers={"Authorization": f"token {token}"})
    assert r.status == 401


async def test_login_logout_cycle(client, fake_auth):
    fake_auth.add_user("alice", "alice-pw")
    body = {"scopes": None, "note": "binstar_client:root@vm", "note_url": "http://x/api", "hostname": "vm",
            "user": None, "max-age": None, "strength": "strong", "fail-if-exists": True}
    r = await client.post("/api/authentications", json=body, headers=basic("alice", "alice-pw"))
    assert r.status == 200, await r.text()
    token = (await r.json())["token"]
    r2 = await client.post("/api/authentications", json=body, headers=basic("alice", "alice-pw"))
    assert r2.status == 200 and (await r2.json())["token"] != token  # fail-if-exists ignored
    tok = {"Authorization": f"token {token}"}
    info = await (await client.get("/api/authentication", headers=tok)).json()
    assert info["application"] == "binstar_client:root@vm" and info["id"]
    listed = await (await client.get("/api/authentications", headers=tok)).json()
    assert len(listed) == 2 and all("expires" in t and "scopes" in t for t in listed)
    assert (await client.get("/api/user", headers=tok)).status == 200  # now cached
    r = await client.delete("/api/authentications", headers=tok)
    assert r.status == 201
    r = await client.get("/api/user", headers=tok)
    assert r.status == 401  # the local cache entry went with the revocation


async def test_password_login_refusals(client, fake_auth):
    fake_auth.add_user("alice", "alice-pw")
    r = await client.post("/api/authentications", json={}, headers=basic("alice", "nope"))
    assert r.status == 401 and (await r.json())["error"]
    r = await client.post("/api/authentications", json={}, headers={"Authorization": "Bearer some-anaconda-com-key"})
    assert r.status == 401
    assert await r.json() == {"error": "Bearer token authentication is not enabled"}
    r = await client.post("/api/authentications", json={})
    assert r.status == 401
    r = await client.post("/api/authentications", json={"user": "someorg"}, headers=basic("alice", "alice-pw"))
    assert r.status == 403


async def test_scopes_are_public(client):
    r = await client.get("/api/scopes")
    assert r.status == 200 and await r.json() == {"api": "all of the API"}


async def test_a_change_in_one_process_empties_every_process_cache(backend, fake_auth, tmp_path):
    """Two resolvers mapping the same epoch file stand for two gateway processes on one host
    (PKGCLOUD_GATEWAY_PROCESSES): a revocation handled by one must bite in the other on its
    next request, however long its TTL."""
    from pkgcloud_gateway.access_epoch import AccessEpoch, path_for

    fake_auth.add_user("alice", "pw")
    token = fake_auth.add_token("alice")
    first, second = AccessEpoch(path_for(tmp_path)), AccessEpoch(path_for(tmp_path))
    try:
        async with open_channel(backend) as ch:
            stub = auth_pb2_grpc.AuthServiceStub(ch)
            a = CredentialResolver(stub, ttl_s=300, epoch=first)
            b = CredentialResolver(stub, ttl_s=300, epoch=second)
            assert (await a.resolve_token(token)).login == (await b.resolve_token(token)).login == "alice"
            await b.resolve_token(token)
            assert fake_auth.resolve_calls == 2  # each process answers from its own cache
            fake_auth.tokens.clear()  # revoked at the source ...
            a.invalidate(token_hash(token))  # ... and process a was told
            with pytest.raises(errors.Unauthenticated):
                await b.resolve_token(token)  # b never was, and refuses at once all the same
    finally:
        first.close()
        second.close()


async def test_an_entry_looked_up_during_a_change_is_not_kept(backend, fake_auth):
    """The epoch is read before the lookup: a change that lands while auth-svc answers makes
    the answer stale at once (it may predate the change), never fresh for a TTL."""
    from pkgcloud_gateway.access_epoch import AccessEpoch

    fake_auth.add_user("alice", "pw")
    token = fake_auth.add_token("alice")
    epoch = AccessEpoch()
    async with open_channel(backend) as ch:
        resolver = CredentialResolver(auth_pb2_grpc.AuthServiceStub(ch), ttl_s=300, epoch=epoch)
        before = epoch.current()
        original = resolver.auth.ResolveToken

        def racing(request):
            epoch.bump()  # the change lands while the lookup is under way
            return original(request)

        resolver.auth.ResolveToken = racing
        await resolver.resolve_token(token)
        assert epoch.current() != before
        resolver.auth.ResolveToken = original
        await resolver.resolve_token(token)
        assert fake_auth.resolve_calls == 2
