"""auth-svc's audit trail: every change and its entry are stored together, on every backend
(the `core` fixture runs over SQLite, mongomock and real MongoDB when configured); a
refused change stores none; the actor crosses gRPC as servicekit.audit defines."""

from __future__ import annotations

import pytest
from pkgcloud_auth.core import AuthCore
from pkgcloud_auth.records import UserRecord
from pkgcloud_auth.servicer import AuthServiceServicer
from pkgcloud_auth.store.sqlite import SqliteAuthStore
from pkgcloud_protos.v1 import auth_pb2 as pb
from pkgcloud_protos.v1 import common_pb2
from pkgcloud_protos.v1.auth_pb2_grpc import AuthServiceStub, add_AuthServiceServicer_to_server
from pkgcloud_servicekit import audit
from pkgcloud_servicekit.audit import Actor, AuditJanitor, AuditQuery, Position
from pkgcloud_servicekit.errors import Conflict, Invalid, NotFound, Unauthenticated
from pkgcloud_servicekit.grpc_plumbing import GrpcServer, open_channel
from pkgcloud_servicekit.logs import request_id_var

PASSWORD = "s3cret-pw"


@pytest.fixture
def acting():
    """Run the test's calls as a given actor (what the gRPC interceptor does per call). The
    test runs in its own task, so what it sets goes with that task's context."""

    def act(login: str, token: str | None = None, client: str = "192.0.2.7", request_id: str = "rid-1") -> None:
        audit.actor_var.set(Actor(login, token, client))
        request_id_var.set(request_id)

    return act


async def trail(core: AuthCore, owner: str, **kw) -> list[audit.AuditEntry]:
    return await core.list_audit(AuditQuery(owner, **kw))


def summary(entries) -> list[tuple]:
    return [(e.action, e.target, e.actor, e.token) for e in entries]


async def test_changes_are_recorded_with_who_made_them(core, acting):
    acting("")  # signing up: nobody is signed in yet
    await core.create_user("alice", "alice@example.com", PASSWORD)
    await core.create_user("bob", "bob@example.com", PASSWORD)
    acting("alice", token=None, client="192.0.2.7", request_id="rid-token")
    plaintext, record = await core.create_token("alice", "ci", ["api:read"])
    acting("alice", token="ci", client="192.0.2.8", request_id="rid-org")
    await core.create_org("acme", "alice")
    await core.put_group("acme", "dev", "write")
    await core.set_member("acme", "dev", "bob", True)
    await core.set_package("acme", "dev", "tool", True)
    await core.set_package("acme", "dev", "tool", False)
    await core.set_member("acme", "dev", "bob", False)
    await core.revoke_token("alice", name="ci")
    await core.change_password("alice", PASSWORD, "n3w-secret-pw")

    alice = await trail(core, "alice")
    assert summary(alice) == [
        ("password.change", "alice", "alice", "ci"),
        ("token.revoke", "alice/tokens/ci", "alice", "ci"),
        ("token.create", "alice/tokens/ci", "alice", None),
        ("account.create", "alice", "alice", None),
    ]
    created = alice[2]
    assert (created.request_id, created.client, created.owner) == ("rid-token", "192.0.2.7", "alice")
    assert alice[0].client == "192.0.2.8" and alice[0].request_id == "rid-org"
    assert summary(await trail(core, "acme")) == [
        ("group.member.remove", "acme/groups/dev/members/bob", "alice", "ci"),
        ("group.package.remove", "acme/groups/dev/packages/tool", "alice", "ci"),
        ("group.package.add", "acme/groups/dev/packages/tool", "alice", "ci"),
        ("group.member.add", "acme/groups/dev/members/bob", "alice", "ci"),
        ("group.set", "acme/groups/dev:write", "alice", "ci"),
        ("org.create", "acme", "alice", "ci"),
    ]
    # neither the token nor a password is in any entry
    every = [*alice, *await trail(core, "acme"), *await trail(core, "bob")]
    text = repr(every)
    assert plaintext not in text and record.token_sha256 not in text
    assert PASSWORD not in text and "n3w-secret-pw" not in text


async def test_refused_changes_record_nothing(core, acting):
    acting("alice")
    await core.create_user("alice", "alice@example.com", PASSWORD)
    await core.create_org("acme", "alice")
    await core.put_group("acme", "dev", "read")
    before = await trail(core, "acme")
    with pytest.raises(Conflict):
        await core.create_user("alice", "other@example.com", PASSWORD)
    with pytest.raises(Conflict):
        await core.create_org("acme", "alice")
    with pytest.raises(NotFound):
        await core.set_member("acme", "dev", "nobody", True)
    with pytest.raises(Invalid):
        await core.set_member("acme", "owners", "alice", False)  # the last owner
    await core.set_member("acme", "dev", "alice", True)
    # already a member: the store changes nothing and records nothing
    assert not await core.store.set_member("acme", "dev", "alice", True, audit_entries=[audit.entry("acme", "group.member.add", "no-op")])
    assert await core.revoke_token("alice", name="no-such-token") == 0
    after = await trail(core, "acme")
    assert summary(after) == [("group.member.add", "acme/groups/dev/members/alice", "alice", None), *summary(before)]
    assert [e.action for e in await trail(core, "alice")] == ["account.create"]


async def test_refused_logins_on_an_account(core, acting):
    await core.create_user("alice", "alice@example.com", PASSWORD)
    acting("", client="198.51.100.9", request_id="rid-login")
    with pytest.raises(Unauthenticated):
        await core.check_password("alice", "wrong-password", "198.51.100.9")
    with pytest.raises(Unauthenticated):
        await core.check_password("nobody", "wrong-password", "198.51.100.9")  # no account, no trail
    await core.check_password("alice", PASSWORD, "198.51.100.9")  # a good login changes nothing
    refused = await trail(core, "alice", action="login.refused")
    assert [(e.actor, e.token, e.target, e.client, e.request_id) for e in refused] == [
        ("alice", None, "alice", "198.51.100.9", "rid-login")]
    assert "wrong-password" not in repr(await trail(core, "alice"))
    assert await trail(core, "nobody") == []


async def test_pages_and_filters(core, acting, clock):
    acting("alice")
    await core.create_user("alice", "alice@example.com", PASSWORD)
    for i in range(5):
        clock.advance(1)
        await core.create_token("alice", f"t{i}")
    acting("bob")  # an org admin would act on alice's account only through an org; any actor will do here
    clock.advance(1)
    await core.revoke_token("alice", name="t0")
    everything = await trail(core, "alice")
    assert [e.target for e in everything] == ["alice/tokens/t0", *(f"alice/tokens/t{i}" for i in range(4, -1, -1)), "alice"]
    page1 = await trail(core, "alice", limit=3)
    page2 = await trail(core, "alice", limit=3, before=Position(page1[-1].at_ms, page1[-1].id))
    page3 = await trail(core, "alice", limit=3, before=Position(page2[-1].at_ms, page2[-1].id))
    assert [*page1, *page2, *page3] == everything
    assert [e.target for e in await trail(core, "alice", action="token.create", limit=2)] == ["alice/tokens/t4", "alice/tokens/t3"]
    assert summary(await trail(core, "alice", actor="bob")) == [("token.revoke", "alice/tokens/t0", "bob", None)]
    assert await trail(core, "alice", actor="nobody") == []


async def test_entries_past_retention_are_purged(any_store, clock):
    user = UserRecord(login="alice", email="a@example.com", password_hash="x", created_at_ms=0)
    old = audit.entry("alice", "account.create", "alice", at_ms=int((clock() - 400 * 86400) * 1000))
    recent = audit.entry("alice", "login.refused", "alice", at_ms=int((clock() - 10 * 86400) * 1000))
    await any_store.create_user(user, audit_entries=[old])
    await any_store.record_audit([recent])
    janitor = AuditJanitor(any_store.purge_audit, 365, sweep=any_store.sweep_audit, clock=clock)
    assert await janitor.run_once() == 1
    assert [e.action for e in await any_store.list_audit(AuditQuery("alice"))] == ["login.refused"]
    assert await janitor.run_once() == 0


async def test_the_actor_crosses_grpc(tmp_path, bus, passwords):
    """The metadata contract of servicekit.audit, through a real server and channel: the
    actor set where the call is made is the one the servicer records."""
    store = SqliteAuthStore(tmp_path / "auth.sqlite3")
    await store.open()
    core = AuthCore(store, bus, passwords=passwords)
    server = GrpcServer("127.0.0.1:0", [(add_AuthServiceServicer_to_server, AuthServiceServicer(core), "pkgcloud.v1.AuthService")])
    await server.start()
    channel = open_channel(f"127.0.0.1:{server.bound_port}")
    stub = AuthServiceStub(channel)
    a = audit.actor_var.set(Actor("alice", "laptop ✓", "203.0.113.5"))
    r = request_id_var.set("rid-grpc")
    try:
        await stub.CreateUser(pb.CreateUserRequest(login="alice", email="a@example.com", password=PASSWORD))
        await stub.CreateToken(pb.CreateTokenRequest(login="alice", name="ci"))
        resp = await stub.ListAudit(common_pb2.ListAuditRequest(owner="alice", action="token.create"))
        assert [audit.from_pb(e).public() | {"at": "-"} for e in resp.entries] == [{
            "at": "-", "actor": "alice", "token": "laptop ✓", "action": "token.create", "target": "alice/tokens/ci",
            "request_id": "rid-grpc", "client": "203.0.113.5",
        }]
        audit.actor_var.set(Actor("alice", None, "203.0.113.5"))
        await stub.ChangePassword(pb.ChangePasswordRequest(login="alice", old_password=PASSWORD, new_password="n3w-secret-pw"))
        changed = await stub.ListAudit(common_pb2.ListAuditRequest(owner="alice", action="password.change"))
        assert [(e.actor, e.HasField("token")) for e in changed.entries] == [("alice", False)]
    finally:
        request_id_var.reset(r)
        audit.actor_var.reset(a)
        await channel.close()
        await server.stop(0)
        await store.close()


async def test_a_failed_write_stores_no_entry(any_store):
    """At the store: the entry goes only with a write that happened."""
    from pkgcloud_auth.records import TokenRecord

    orphan = TokenRecord(id="t1", login="ghost", token_sha256="0" * 64, name="ci", scopes=("all",), created_at_ms=1)
    with pytest.raises(NotFound):
        await any_store.create_token(orphan, audit_entries=[audit.entry("ghost", "token.create", "ghost/tokens/ci")])
    user = UserRecord(login="alice", email="a@example.com", password_hash="x", created_at_ms=0)
    await any_store.create_user(user, audit_entries=[audit.entry("alice", "account.create", "alice")])
    with pytest.raises(Conflict):
        await any_store.create_user(user, audit_entries=[audit.entry("alice", "account.create", "again")])
    assert not await any_store.set_password_hash("nobody", "h", audit_entries=[audit.entry("nobody", "password.change", "nobody")])
    assert await any_store.list_audit(AuditQuery("ghost")) == []
    assert await any_store.list_audit(AuditQuery("nobody")) == []
    assert [e.target for e in await any_store.list_audit(AuditQuery("alice"))] == ["alice"]
