"""The AuthStore contract, run against every implementation (see conftest.any_store)."""

from __future__ import annotations

import asyncio

import pytest
from pkgcloud_auth.records import RevokeSelector, TokenRecord, UserRecord
from pkgcloud_auth.store import AuthStore
from pkgcloud_servicekit.errors import Conflict, NotFound


def user(login="alice", **kw) -> UserRecord:
    fields = dict(email=f"{login}@example.com", password_hash="$argon2id$fake", created_at_ms=1000, name="Alice")
    fields.update(kw)
    return UserRecord(login=login, **fields)


def token(id="t1", login="alice", sha="a" * 64, name="laptop", **kw) -> TokenRecord:
    fields = dict(scopes=("api", "conda:download"), created_at_ms=2000)
    fields.update(kw)
    return TokenRecord(id=id, login=login, token_sha256=sha, name=name, **fields)


async def test_implements_the_interface(any_store):
    assert isinstance(any_store, AuthStore)


async def test_user_round_trip(any_store):
    u = user(description="d", user_type="user", disabled=False)
    await any_store.create_user(u)
    assert await any_store.get_user("alice") == u
    assert await any_store.get_user("bob") is None


async def test_duplicate_login_conflicts_and_keeps_the_first(any_store):
    await any_store.create_user(user(email="first@example.com"))
    with pytest.raises(Conflict, match="alice"):
        await any_store.create_user(user(email="second@example.com"))
    assert (await any_store.get_user("alice")).email == "first@example.com"


async def test_set_password_hash_and_disabled(any_store):
    await any_store.create_user(user())
    assert await any_store.set_password_hash("alice", "$argon2id$new") is True
    assert await any_store.set_disabled("alice", True) is True
    got = await any_store.get_user("alice")
    assert (got.password_hash, got.disabled) == ("$argon2id$new", True)
    assert await any_store.set_disabled("alice", False) is True
    assert (await any_store.get_user("alice")).disabled is False
    assert await any_store.set_password_hash("nobody", "x") is False
    assert await any_store.set_disabled("nobody", True) is False


async def test_token_round_trip_by_hash(any_store):
    await any_store.create_user(user())
    t = token(expires_at_ms=9000, hostname="vm", remote_addr="10.0.0.1")
    await any_store.create_token(t)
    assert await any_store.get_token_by_hash("a" * 64) == t
    assert await any_store.get_token_by_hash("b" * 64) is None


async def test_token_needs_an_existing_user(any_store):
    with pytest.raises(NotFound):
        await any_store.create_token(token(login="ghost"))
    assert await any_store.get_token_by_hash("a" * 64) is None


async def test_duplicate_token_hash_or_id_conflicts(any_store):
    await any_store.create_user(user())
    await any_store.create_token(token())
    with pytest.raises(Conflict):
        await any_store.create_token(token(id="t2"))  # same hash
    with pytest.raises(Conflict):
        await any_store.create_token(token(sha="b" * 64))  # same id
    assert [t.id for t in await any_store.list_tokens("alice")] == ["t1"]


async def test_list_tokens_oldest_first_only_own_and_unrevoked(any_store):
    await any_store.create_user(user())
    await any_store.create_user(user("bob"))
    await any_store.create_token(token("t2", sha="2" * 64, created_at_ms=3000))
    await any_store.create_token(token("t1", sha="1" * 64, created_at_ms=2000, expires_at_ms=2500))
    await any_store.create_token(token("t3", login="bob", sha="3" * 64))
    await any_store.create_token(token("t4", sha="4" * 64, created_at_ms=4000, revoked_at_ms=4500))
    assert [t.id for t in await any_store.list_tokens("alice")] == ["t1", "t2"]  # expired kept
    assert [t.id for t in await any_store.list_tokens("bob")] == ["t3"]
    assert await any_store.list_tokens("nobody") == []


async def test_touch_token_at_most_once_per_interval(any_store):
    await any_store.create_user(user())
    await any_store.create_token(token())
    assert await any_store.touch_token("t1", 10_000, 5_000) is True
    assert await any_store.touch_token("t1", 12_000, 5_000) is False  # too soon
    assert (await any_store.get_token_by_hash("a" * 64)).last_used_ms == 10_000
    assert await any_store.touch_token("t1", 15_000, 5_000) is True
    assert (await any_store.get_token_by_hash("a" * 64)).last_used_ms == 15_000
    assert await any_store.touch_token("missing", 20_000, 5_000) is False


@pytest.mark.parametrize("selector", [
    RevokeSelector(token_sha256="1" * 64), RevokeSelector(token_id="t1"), RevokeSelector(name="one"),
])
async def test_revoke_by_each_selector(any_store, selector):
    await any_store.create_user(user())
    await any_store.create_token(token("t1", sha="1" * 64, name="one"))
    await any_store.create_token(token("t2", sha="2" * 64, name="two"))
    revoked = await any_store.revoke_tokens("alice", selector, 7000)
    assert [(t.id, t.revoked_at_ms) for t in revoked] == [("t1", 0)]  # as it was before
    assert (await any_store.get_token_by_hash("1" * 64)).revoked_at_ms == 7000
    assert [t.id for t in await any_store.list_tokens("alice")] == ["t2"]
    assert await any_store.revoke_tokens("alice", selector, 8000) == []  # already revoked
    assert (await any_store.get_token_by_hash("1" * 64)).revoked_at_ms == 7000


async def test_revoke_by_name_takes_every_token_of_that_name(any_store):
    await any_store.create_user(user())
    for i in range(3):
        await any_store.create_token(token(f"t{i}", sha=str(i) * 64, name="binstar_client:me@vm", created_at_ms=i))
    await any_store.create_token(token("other", sha="f" * 64, name="ci"))
    revoked = await any_store.revoke_tokens("alice", RevokeSelector(name="binstar_client:me@vm"), 9)
    assert sorted(t.id for t in revoked) == ["t0", "t1", "t2"]
    assert [t.id for t in await any_store.list_tokens("alice")] == ["other"]


async def test_revoke_never_touches_another_logins_token(any_store):
    await any_store.create_user(user())
    await any_store.create_user(user("bob"))
    await any_store.create_token(token("t1", login="bob", sha="1" * 64, name="x"))
    for sel in (RevokeSelector(token_sha256="1" * 64), RevokeSelector(token_id="t1"), RevokeSelector(name="x")):
        assert await any_store.revoke_tokens("alice", sel, 5) == []
    assert (await any_store.get_token_by_hash("1" * 64)).revoked_at_ms == 0
    assert await any_store.revoke_tokens("alice", RevokeSelector(), 5) == []


async def test_concurrent_revocations_report_each_token_once(any_store):
    await any_store.create_user(user())
    await any_store.create_token(token("t1", sha="1" * 64, name="x"))
    results = await asyncio.gather(*[any_store.revoke_tokens("alice", RevokeSelector(name="x"), 5) for _ in range(5)])
    assert sum(len(r) for r in results) == 1


async def test_sqlite_schema_survives_reopening(tmp_path):
    from pkgcloud_auth.store.sqlite import SqliteAuthStore

    first = SqliteAuthStore(tmp_path / "auth.sqlite3")
    await first.open()
    await first.create_user(user())
    await first.close()
    again = SqliteAuthStore(tmp_path / "auth.sqlite3")
    await again.open()  # migrations already applied: must be a no-op
    try:
        assert await again.get_user("alice") == user()
    finally:
        await again.close()
