"""AuthCore on every store: account rules, argon2 at rest, tokens, throttling, revocation events."""

from __future__ import annotations

import hashlib

import argon2
import pytest
from pkgcloud_auth.core import AuthCore
from pkgcloud_auth.passwords import Passwords
from pkgcloud_auth.tokens import ALPHABET
from pkgcloud_servicekit.errors import Conflict, Forbidden, Invalid, NotFound, Throttled, Unauthenticated

PW = "correct horse"


async def make_alice(core: AuthCore, login="alice"):
    return await core.create_user(login, f"{login}@example.com", PW, name="Alice A.")


# --- accounts -------------------------------------------------------------------------

async def test_create_user_stores_an_argon2_hash_never_the_password(core, any_store):
    u = await make_alice(core)
    assert (u.login, u.email, u.name, u.user_type, u.disabled) == ("alice", "alice@example.com", "Alice A.", "user", False)
    stored = await any_store.get_user("alice")
    assert stored.password_hash.startswith("$argon2id$")
    assert PW not in repr(stored)
    assert argon2.PasswordHasher().verify(stored.password_hash, PW)


async def test_login_is_stored_lowercase_and_unique_case_insensitively(core):
    u = await core.create_user("Alice-01", "a@example.com", PW)
    assert u.login == "alice-01"
    assert (await core.get_user("ALICE-01")).login == "alice-01"
    with pytest.raises(Conflict, match="already taken"):
        await core.create_user("aLiCe-01", "b@example.com", PW)


@pytest.mark.parametrize("login", ["", "-alice", "_alice", "al ice", "al.ice", "a/b", "x" * 65, "ålice"])
async def test_bad_logins_are_refused(core, login):
    with pytest.raises(Invalid):
        await core.create_user(login, "a@example.com", PW)


@pytest.mark.parametrize("login", ["a", "9lives", "x" * 64, "a_b-c"])
async def test_good_logins_are_accepted(core, login):
    assert (await core.create_user(login, "a@example.com", PW)).login == login


@pytest.mark.parametrize("login", ["api", "conda", "pypi", "t", "static", "admin", "account", "login", "logout",
                                   "signup", "user", "users", "healthz", "metrics", "API"])
async def test_reserved_logins_are_refused(core, login):
    with pytest.raises(Invalid, match="reserved"):
        await core.create_user(login, "a@example.com", PW)


@pytest.mark.parametrize("email", ["", "alice", "alice@", "@example.com", "alice@example", "a b@example.com"])
async def test_bad_emails_are_refused(core, email):
    with pytest.raises(Invalid, match="email"):
        await core.create_user("alice", email, PW)


async def test_short_password_is_refused_and_nothing_is_stored(core, any_store):
    with pytest.raises(Invalid, match="at least 8"):
        await core.create_user("alice", "a@example.com", "1234567")
    assert await any_store.get_user("alice") is None


async def test_get_user_not_found(core):
    with pytest.raises(NotFound):
        await core.get_user("nobody")
    with pytest.raises(NotFound):
        await core.get_user("not a login")


# --- passwords ------------------------------------------------------------------------

async def test_check_password(core):
    await make_alice(core)
    assert (await core.check_password("Alice", PW, "127.0.0.1")).login == "alice"


async def test_wrong_password_and_unknown_user_get_one_message(core):
    await make_alice(core)
    with pytest.raises(Unauthenticated) as wrong:
        await core.check_password("alice", "wrong password")
    with pytest.raises(Unauthenticated) as unknown:
        await core.check_password("nobody", PW)
    assert wrong.value.message == unknown.value.message == "invalid username or password"


async def test_disabled_account_is_refused(core):
    await make_alice(core)
    await core.set_disabled("alice", True)
    with pytest.raises(Forbidden, match="disabled"):
        await core.check_password("alice", PW)
    with pytest.raises(Unauthenticated):  # a wrong password learns nothing about the account
        await core.check_password("alice", "wrong password")
    await core.set_disabled("alice", False)
    assert (await core.check_password("alice", PW)).login == "alice"


async def test_weak_hash_is_upgraded_on_login(any_store, bus, clock):
    weak = Passwords(argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    strong = Passwords(argon2.PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    await AuthCore(any_store, bus, passwords=weak, clock=clock).create_user("alice", "a@example.com", PW)
    old = (await any_store.get_user("alice")).password_hash
    assert strong.needs_rehash(old)

    await AuthCore(any_store, bus, passwords=strong, clock=clock).check_password("alice", PW)
    new = (await any_store.get_user("alice")).password_hash
    assert new != old and not strong.needs_rehash(new)
    assert await strong.verify(new, PW)


# --- throttling (limits in conftest: 3 per login, 5 per address, 60 s window) -----------

async def test_repeated_failures_throttle_the_login(core, clock):
    await make_alice(core)
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await core.check_password("alice", "wrong password", "10.0.0.1")
    with pytest.raises(Throttled, match="try again in 60 seconds"):
        await core.check_password("alice", PW, "10.0.0.2")  # even the right password, from elsewhere
    clock.advance(61)
    assert (await core.check_password("alice", PW, "10.0.0.2")).login == "alice"


async def test_unknown_logins_are_throttled_alike(core):
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await core.check_password("nobody", "wrong password")
    with pytest.raises(Throttled):
        await core.check_password("nobody", "wrong password")


async def test_repeated_failures_throttle_the_address(core):
    for i in range(5):
        with pytest.raises(Unauthenticated):
            await core.check_password(f"user{i}", "wrong password", "10.0.0.9")
    await make_alice(core)
    with pytest.raises(Throttled):
        await core.check_password("alice", PW, "10.0.0.9")
    assert (await core.check_password("alice", PW, "10.0.0.10")).login == "alice"


async def test_success_resets_the_login_counter(core):
    await make_alice(core)
    for _ in range(5):
        for _ in range(2):
            with pytest.raises(Unauthenticated):
                await core.check_password("alice", "wrong password")
        await core.check_password("alice", PW)


async def test_successful_logins_do_not_throttle_a_shared_address(core):
    await make_alice(core)
    for _ in range(8):
        await core.check_password("alice", PW, "192.0.2.1")


# --- tokens ---------------------------------------------------------------------------

async def test_token_shape_and_only_its_hash_at_rest(core, any_store):
    await make_alice(core)
    token, info = await core.create_token("alice", "laptop", ["api", "conda:download"], hostname="vm", remote_addr="127.0.0.1")
    assert len(token) >= 43 and set(token) <= set(ALPHABET)
    assert not set(token) & set("./\\_-")
    stored = await any_store.get_token_by_hash(hashlib.sha256(token.encode()).hexdigest())
    assert stored == info
    assert token not in repr(stored)
    assert (info.login, info.name, info.scopes, info.hostname, info.remote_addr, info.expires_at_ms) == (
        "alice", "laptop", ("api", "conda:download"), "vm", "127.0.0.1", 0)


async def test_tokens_are_unique(core):
    await make_alice(core)
    seen = {(await core.create_token("alice", "t"))[0] for _ in range(20)}
    assert len(seen) == 20


async def test_resolve_token(core):
    await make_alice(core)
    token, info = await core.create_token("Alice", "ci", ["repos conda:download"])
    resolved = await core.resolve_token(token)
    assert resolved.user.login == "alice" and resolved.token.id == info.id
    assert resolved.token.scopes == ("repos", "conda:download")  # a space-separated item is split


async def test_no_scopes_means_all(core):
    await make_alice(core)
    _, info = await core.create_token("alice", "binstar_client:me@vm", [])
    assert info.scopes == ("all",)


async def test_unknown_scope_is_refused_and_nothing_is_stored(core):
    await make_alice(core)
    with pytest.raises(Invalid, match="unknown scope.*bogus"):
        await core.create_token("alice", "x", ["api", "bogus"])
    assert await core.list_tokens("alice") == []


async def test_create_token_bad_input(core):
    await make_alice(core)
    with pytest.raises(Invalid, match="max-age"):
        await core.create_token("alice", "x", max_age_s=-1)
    with pytest.raises(NotFound):
        await core.create_token("nobody", "x")
    await core.set_disabled("alice", True)
    with pytest.raises(Forbidden):
        await core.create_token("alice", "x")


@pytest.mark.parametrize("bad", ["", "nope", "a" * 43 + ".", "x" * 43, "../../etc/passwd"])
async def test_unknown_tokens_are_unauthenticated(core, bad):
    with pytest.raises(Unauthenticated):
        await core.resolve_token(bad)


async def test_expired_token(core, clock):
    await make_alice(core)
    token, info = await core.create_token("alice", "short", max_age_s=60)
    assert info.expires_at_ms == int(clock.now * 1000) + 60_000
    await core.resolve_token(token)
    clock.advance(59)
    await core.resolve_token(token)
    clock.advance(1)
    with pytest.raises(Unauthenticated, match="expired"):
        await core.resolve_token(token)
    assert await core.list_tokens("alice") == []


async def test_disabled_accounts_tokens_stop_resolving(core):
    await make_alice(core)
    token, _ = await core.create_token("alice", "t")
    await core.set_disabled("alice", True)
    with pytest.raises(Unauthenticated, match="disabled"):
        await core.resolve_token(token)


async def test_last_use_is_recorded_at_most_every_few_seconds(core, clock, any_store):
    await make_alice(core)
    token, info = await core.create_token("alice", "t")
    assert info.last_used_ms == 0
    first = int(clock.now * 1000)
    assert (await core.resolve_token(token)).token.last_used_ms == first
    clock.advance(2)
    await core.resolve_token(token)
    assert (await any_store.get_token_by_hash(info.token_sha256)).last_used_ms == first
    clock.advance(4)
    await core.resolve_token(token)
    assert (await any_store.get_token_by_hash(info.token_sha256)).last_used_ms == first + 6000


async def test_list_tokens(core, clock):
    await make_alice(core)
    await make_alice(core, "bob")
    _, a = await core.create_token("alice", "one")
    clock.advance(1)
    _, b = await core.create_token("alice", "two")
    await core.create_token("bob", "three")
    assert [t.id for t in await core.list_tokens("ALICE")] == [a.id, b.id]
    with pytest.raises(NotFound):
        await core.list_tokens("nobody")


# --- revocation -----------------------------------------------------------------------

@pytest.fixture
async def revoked_events(bus):
    got = []

    async def handler(event):
        got.append(event)

    await bus.subscribe("test-gateway", ["token.*"], handler)
    return got


async def test_revoke_by_token_publishes_the_hash(core, revoked_events):
    await make_alice(core)
    token, info = await core.create_token("alice", "laptop")
    assert await core.revoke_token(token=token) == 1  # logout: no login needed
    with pytest.raises(Unauthenticated, match="revoked"):
        await core.resolve_token(token)
    [event] = revoked_events
    assert (event.type, event.owner) == ("token.revoked", "alice")
    assert event.token_revoked.token_sha256 == hashlib.sha256(token.encode()).hexdigest() == info.token_sha256
    assert event.token_revoked.login == "alice"
    assert await core.revoke_token(token=token) == 0  # already revoked: no second event
    assert len(revoked_events) == 1


async def test_revoke_by_id_and_by_name(core, revoked_events):
    await make_alice(core)
    t1, one = await core.create_token("alice", "one")
    t2, _ = await core.create_token("alice", "twin")
    t3, _ = await core.create_token("alice", "twin")
    keep, _ = await core.create_token("alice", "keep")
    assert len({t1, t2, t3, keep}) == 4
    assert await core.revoke_token("alice", token_id=one.id) == 1
    assert await core.revoke_token("Alice", name="twin") == 2
    for t in (t1, t2, t3):
        with pytest.raises(Unauthenticated):
            await core.resolve_token(t)
    await core.resolve_token(keep)
    assert [t.name for t in await core.list_tokens("alice")] == ["keep"]
    assert len(revoked_events) == 3


async def test_revoke_cannot_reach_another_users_token(core, revoked_events):
    await make_alice(core)
    await make_alice(core, "bob")
    token, info = await core.create_token("bob", "bobs")
    assert await core.revoke_token("alice", token=token) == 0
    assert await core.revoke_token("alice", token_id=info.id) == 0
    assert await core.revoke_token("alice", name="bobs") == 0
    await core.resolve_token(token)
    assert revoked_events == []


async def test_revoke_needs_exactly_one_selector(core):
    with pytest.raises(Invalid):
        await core.revoke_token("alice")
    with pytest.raises(Invalid):
        await core.revoke_token("alice", token_id="x", name="y")
    with pytest.raises(Invalid, match="login"):
        await core.revoke_token("", name="y")


async def test_list_scopes(core):
    names = [n for n, _ in core.list_scopes()]
    for expected in ["all", "api", "api:read", "api:write", "repos", "conda", "conda:download", "pypi", "pypi:download", "pypi:upload"]:
        assert expected in names
