"""AuthService through a real grpc.aio server on 127.0.0.1 and a real stub."""

from __future__ import annotations

import hashlib

import grpc
import pytest
from pkgcloud_auth.core import AuthCore
from pkgcloud_auth.servicer import AuthServiceServicer
from pkgcloud_auth.store.sqlite import SqliteAuthStore
from pkgcloud_protos.v1 import auth_pb2 as pb
from pkgcloud_protos.v1.auth_pb2_grpc import AuthServiceStub, add_AuthServiceServicer_to_server
from pkgcloud_servicekit.grpc_plumbing import GrpcServer, check_health, open_channel


@pytest.fixture
async def stub(tmp_path, bus, passwords):
    store = SqliteAuthStore(tmp_path / "auth.sqlite3")
    await store.open()
    core = AuthCore(store, bus, passwords=passwords, login_failure_limit=2, addr_failure_limit=100)
    server = GrpcServer("127.0.0.1:0", [(add_AuthServiceServicer_to_server, AuthServiceServicer(core), "pkgcloud.v1.AuthService")])
    await server.start()
    address = f"127.0.0.1:{server.bound_port}"
    assert await check_health(address, "pkgcloud.v1.AuthService")
    channel = open_channel(address)
    try:
        yield AuthServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(0)
        await store.close()


async def code_of(call) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call
    return e.value.code(), e.value.details()


async def alice(stub):
    return await stub.CreateUser(pb.CreateUserRequest(login="Alice", email="alice@example.com", password="s3cret-pw", name="Alice"))


async def test_user_calls(stub):
    u = await alice(stub)
    assert (u.login, u.email, u.name, u.user_type, u.disabled) == ("alice", "alice@example.com", "Alice", "user", False)
    assert u.created_at_ms > 0
    assert (await stub.GetUser(pb.GetUserRequest(login="ALICE"))).login == "alice"
    assert await code_of(alice(stub)) == (grpc.StatusCode.ALREADY_EXISTS, "login 'alice' is already taken")
    code, details = await code_of(stub.CreateUser(pb.CreateUserRequest(login="api", email="x@example.com", password="s3cret-pw")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "reserved" in details
    assert (await code_of(stub.GetUser(pb.GetUserRequest(login="bob"))))[0] == grpc.StatusCode.NOT_FOUND


async def test_check_password_codes(stub):
    await alice(stub)
    ok = await stub.CheckPassword(pb.CheckPasswordRequest(login="alice", password="s3cret-pw", remote_addr="127.0.0.1"))
    assert ok.login == "alice"
    bad = pb.CheckPasswordRequest(login="alice", password="wrong-pw", remote_addr="127.0.0.1")
    assert await code_of(stub.CheckPassword(bad)) == (grpc.StatusCode.UNAUTHENTICATED, "invalid username or password")
    await code_of(stub.CheckPassword(bad))
    code, details = await code_of(stub.CheckPassword(bad))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "too many failed login attempts" in details


async def test_token_lifecycle(stub, bus):
    events = []

    async def on_event(ev):
        events.append(ev)

    await bus.subscribe("test", ["token.revoked"], on_event)
    await alice(stub)
    created = await stub.CreateToken(pb.CreateTokenRequest(
        login="alice", name="binstar_client:me@vm", scopes=["api", "conda:download"], max_age_s=3600,
        hostname="vm", remote_addr="127.0.0.1"))
    info = created.info
    assert created.token.isalnum() and len(created.token) >= 43
    assert (info.login, info.name, list(info.scopes), info.hostname, info.remote_addr) == (
        "alice", "binstar_client:me@vm", ["api", "conda:download"], "vm", "127.0.0.1")
    assert info.expires_at_ms == info.created_at_ms + 3_600_000

    p = await stub.ResolveToken(pb.ResolveTokenRequest(token=created.token))
    assert (p.login, p.user_type, p.token_id, list(p.scopes), p.expires_at_ms, p.token_name) == (
        "alice", "user", info.id, ["api", "conda:download"], info.expires_at_ms, "binstar_client:me@vm")

    listed = await stub.ListTokens(pb.ListTokensRequest(login="alice"))
    assert [t.id for t in listed.tokens] == [info.id]
    assert listed.tokens[0].last_used_ms > 0

    assert (await stub.RevokeToken(pb.RevokeTokenRequest(token=created.token))).revoked == 1
    assert [(e.type, e.owner, e.token_revoked.token_sha256) for e in events] == [
        ("token.revoked", "alice", hashlib.sha256(created.token.encode()).hexdigest())]
    code, details = await code_of(stub.ResolveToken(pb.ResolveTokenRequest(token=created.token)))
    assert code == grpc.StatusCode.UNAUTHENTICATED and "revoked" in details
    assert (await stub.ListTokens(pb.ListTokensRequest(login="alice"))).tokens == []


async def test_revoke_by_id_and_name(stub):
    await alice(stub)
    a = await stub.CreateToken(pb.CreateTokenRequest(login="alice", name="one"))
    await stub.CreateToken(pb.CreateTokenRequest(login="alice", name="two"))
    await stub.CreateToken(pb.CreateTokenRequest(login="alice", name="two"))
    assert (await stub.RevokeToken(pb.RevokeTokenRequest(login="alice", token_id=a.info.id))).revoked == 1
    assert (await stub.RevokeToken(pb.RevokeTokenRequest(login="alice", name="two"))).revoked == 2
    assert (await stub.RevokeToken(pb.RevokeTokenRequest(login="alice", name="two"))).revoked == 0
    assert (await code_of(stub.RevokeToken(pb.RevokeTokenRequest(login="alice"))))[0] == grpc.StatusCode.INVALID_ARGUMENT


async def test_token_error_codes(stub):
    await alice(stub)
    code, details = await code_of(stub.CreateToken(pb.CreateTokenRequest(login="alice", name="x", scopes=["nope"])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "unknown scope(s): nope" in details
    assert (await code_of(stub.CreateToken(pb.CreateTokenRequest(login="ghost", name="x"))))[0] == grpc.StatusCode.NOT_FOUND
    assert (await code_of(stub.ResolveToken(pb.ResolveTokenRequest(token="A" * 43))))[0] == grpc.StatusCode.UNAUTHENTICATED
    assert (await code_of(stub.ResolveToken(pb.ResolveTokenRequest(token=""))))[0] == grpc.StatusCode.UNAUTHENTICATED
    assert (await code_of(stub.ListTokens(pb.ListTokensRequest(login="ghost"))))[0] == grpc.StatusCode.NOT_FOUND


async def test_list_scopes(stub):
    resp = await stub.ListScopes(pb.ListScopesRequest())
    by_name = {s.name: s.description for s in resp.scopes}
    assert {"all", "api", "api:read", "api:write", "repos", "conda", "conda:download", "pypi", "pypi:download", "pypi:upload"} <= set(by_name)
    assert all(by_name.values())


# --- password change, organizations, groups, permission (issue 5) ----------------------

async def test_change_password_call(stub):
    await alice(stub)
    code, _ = await code_of(stub.ChangePassword(pb.ChangePasswordRequest(login="alice", old_password="nope-nope", new_password="new-pass-1")))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    u = await stub.ChangePassword(pb.ChangePasswordRequest(login="alice", old_password="s3cret-pw", new_password="new-pass-1"))
    assert u.login == "alice"
    assert (await stub.CheckPassword(pb.CheckPasswordRequest(login="alice", password="new-pass-1"))).login == "alice"


async def test_org_group_and_permission_calls(stub):
    await alice(stub)
    await stub.CreateUser(pb.CreateUserRequest(login="bob", email="bob@example.com", password="s3cret-pw"))
    org = await stub.CreateOrganization(pb.CreateOrganizationRequest(login="acme", creator="alice", description="d"))
    assert (org.login, org.user_type, org.description) == ("acme", "org", "d")
    assert [o.login for o in (await stub.ListOrganizations(pb.ListOrganizationsRequest(login="alice"))).orgs] == ["acme"]
    ref = pb.GroupRef(org="acme", name="devs")
    g = await stub.PutGroup(pb.PutGroupRequest(ref=ref, permission=pb.PERMISSION_WRITE))
    assert (g.name, g.permission) == ("devs", pb.PERMISSION_WRITE)
    await stub.AddGroupMember(pb.GroupMemberRequest(ref=ref, login="bob"))
    g = await stub.AddGroupPackage(pb.GroupPackageRequest(ref=ref, package="hello"))
    assert (list(g.members), list(g.packages)) == (["bob"], ["hello"])
    groups = (await stub.ListGroups(pb.ListGroupsRequest(org="acme"))).groups
    assert [x.name for x in groups] == ["devs", "owners"]

    async def perm(login, owner, package=""):
        return (await stub.GetPermission(pb.GetPermissionRequest(login=login, owner=owner, package=package))).permission

    assert await perm("bob", "acme", "hello") == pb.PERMISSION_WRITE
    assert await perm("bob", "acme", "other") == pb.PERMISSION_NONE
    assert await perm("alice", "acme", "other") == pb.PERMISSION_ADMIN
    g = await stub.RemoveGroupPackage(pb.GroupPackageRequest(ref=ref, package="hello"))
    assert list(g.packages) == []
    g = await stub.RemoveGroupMember(pb.GroupMemberRequest(ref=ref, login="bob"))
    assert list(g.members) == []
    assert (await stub.GetGroup(pb.GroupRef(org="acme", name="owners"))).members == ["alice"]
    code, _ = await code_of(stub.GetGroup(pb.GroupRef(org="acme", name="nope")))
    assert code == grpc.StatusCode.NOT_FOUND
    code, _ = await code_of(stub.PutGroup(pb.PutGroupRequest(ref=ref, permission=pb.PERMISSION_NONE)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
