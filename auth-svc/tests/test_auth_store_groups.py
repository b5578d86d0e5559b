"""The AuthStore contract for organizations and groups, on every implementation."""

from __future__ import annotations

import pytest
from pkgcloud_auth.records import GroupRecord, UserRecord
from pkgcloud_servicekit.errors import Conflict, NotFound


def user(login, **kw) -> UserRecord:
    fields = dict(email=f"{login}@example.com", password_hash="$argon2id$fake", created_at_ms=1000)
    fields.update(kw)
    return UserRecord(login=login, **fields)


def org(login="acme") -> UserRecord:
    return UserRecord(login=login, email="", password_hash="", created_at_ms=1500, user_type="org", description="d")


def owners(org_login="acme", *members) -> GroupRecord:
    return GroupRecord(org=org_login, name="owners", permission="admin", created_at_ms=1500, members=members)


@pytest.fixture
async def store(any_store):
    for login in ("alice", "bob", "carol"):
        await any_store.create_user(user(login))
    await any_store.create_org(org(), owners("acme", "alice"))
    return any_store


async def test_create_org_stores_the_org_and_its_owners(store):
    assert await store.get_user("acme") == org()
    assert await store.get_group("acme", "owners") == owners("acme", "alice")
    assert await store.list_groups("acme") == [owners("acme", "alice")]


async def test_create_org_on_a_taken_login_conflicts_and_writes_nothing(store):
    with pytest.raises(Conflict):
        await store.create_org(org("bob"), owners("bob", "alice"))
    assert (await store.get_user("bob")).user_type == "user"
    assert await store.get_group("bob", "owners") is None
    assert [g.org for g in await store.groups_of_member("alice")] == ["acme"]


async def test_create_org_with_an_unknown_member_writes_nothing(store):
    with pytest.raises(NotFound):
        await store.create_org(org("other"), owners("other", "nobody"))
    assert await store.get_user("other") is None
    assert await store.get_group("other", "owners") is None


async def test_put_group_creates_then_changes_only_the_permission(store):
    g = await store.put_group(GroupRecord(org="acme", name="devs", permission="read", created_at_ms=2000))
    assert g == GroupRecord(org="acme", name="devs", permission="read", created_at_ms=2000)
    assert await store.set_member("acme", "devs", "bob", True)
    assert await store.set_package("acme", "devs", "hello", True)
    g = await store.put_group(GroupRecord(org="acme", name="devs", permission="write", created_at_ms=9999))
    assert g == GroupRecord(org="acme", name="devs", permission="write", created_at_ms=2000, members=("bob",), packages=("hello",))
    assert [x.name for x in await store.list_groups("acme")] == ["devs", "owners"]


async def test_put_group_of_an_unknown_org(store):
    with pytest.raises(NotFound):
        await store.put_group(GroupRecord(org="nope", name="devs", permission="read", created_at_ms=1))


async def test_members_add_remove_idempotent(store):
    assert await store.set_member("acme", "owners", "bob", True)
    assert not await store.set_member("acme", "owners", "bob", True)
    assert (await store.get_group("acme", "owners")).members == ("alice", "bob")
    assert await store.set_member("acme", "owners", "alice", False)
    assert not await store.set_member("acme", "owners", "alice", False)
    assert (await store.get_group("acme", "owners")).members == ("bob",)


async def test_member_of_an_unknown_group_or_unknown_user(store):
    with pytest.raises(NotFound):
        await store.set_member("acme", "nope", "bob", True)
    with pytest.raises(NotFound):
        await store.set_member("acme", "owners", "nobody", True)
    assert (await store.get_group("acme", "owners")).members == ("alice",)


async def test_packages_add_remove(store):
    await store.put_group(GroupRecord(org="acme", name="devs", permission="write", created_at_ms=2000))
    assert await store.set_package("acme", "devs", "b", True)
    assert await store.set_package("acme", "devs", "a", True)
    assert not await store.set_package("acme", "devs", "a", True)
    assert (await store.get_group("acme", "devs")).packages == ("a", "b")
    assert await store.set_package("acme", "devs", "b", False)
    assert (await store.get_group("acme", "devs")).packages == ("a",)
    with pytest.raises(NotFound):
        await store.set_package("acme", "nope", "a", True)


async def test_groups_of_member(store):
    await store.create_org(org("beta"), owners("beta", "bob"))
    await store.put_group(GroupRecord(org="beta", name="readers", permission="read", created_at_ms=2000))
    await store.set_member("beta", "readers", "alice", True)
    assert [(g.org, g.name) for g in await store.groups_of_member("alice")] == [("acme", "owners"), ("beta", "readers")]
    assert [(g.org, g.name) for g in await store.groups_of_member("alice", "beta")] == [("beta", "readers")]
    assert await store.groups_of_member("carol") == []
