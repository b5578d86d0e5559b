"""AuthCore on every store: password change, organizations, groups, the permission answer."""

from __future__ import annotations

import pytest
from pkgcloud_auth.core import AuthCore
from pkgcloud_servicekit.errors import Conflict, Forbidden, Invalid, NotFound, Throttled, Unauthenticated

PW = "correct horse"


@pytest.fixture
async def membership_events(bus):
    got = []

    async def handler(event):
        got.append((event.membership_changed.org, event.membership_changed.login))

    await bus.subscribe("test-gateway", ["membership.changed"], handler)
    return got


@pytest.fixture
async def people(core: AuthCore):
    for login in ("alice", "bob", "carol"):
        await core.create_user(login, f"{login}@example.com", PW)
    return core


# --- password change ------------------------------------------------------------------

async def test_change_password_needs_the_old_one(people):
    core = people
    with pytest.raises(Unauthenticated):
        await core.change_password("alice", "wrong password", "new password 1")
    await core.change_password("alice", PW, "new password 1")
    with pytest.raises(Unauthenticated):
        await core.check_password("alice", PW)
    assert (await core.check_password("alice", "new password 1")).login == "alice"


async def test_change_password_refuses_a_short_one_and_keeps_the_old(people):
    with pytest.raises(Invalid, match="at least"):
        await people.change_password("alice", PW, "short")
    assert (await people.check_password("alice", PW)).login == "alice"


async def test_change_password_is_throttled_and_refused_when_disabled(people):
    core = people
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await core.change_password("bob", "guess guess", "new password 1")
    with pytest.raises(Throttled):
        await core.change_password("bob", PW, "new password 1")
    await core.set_disabled("carol", True)
    with pytest.raises(Forbidden, match="disabled"):
        await core.change_password("carol", PW, "new password 1")


# --- organizations --------------------------------------------------------------------

async def test_create_org_makes_the_creator_an_owner(people, membership_events):
    core = people
    org = await core.create_org("Acme", "alice", name="Acme Inc.", description="rockets")
    assert (org.login, org.user_type, org.name, org.description, org.password_hash) == ("acme", "org", "Acme Inc.", "rockets", "")
    [owners] = await core.list_groups("acme")
    assert (owners.name, owners.permission, owners.members) == ("owners", "admin", ("alice",))
    assert [o.login for o in await core.list_orgs("alice")] == ["acme"]
    assert await core.list_orgs("bob") == []
    assert membership_events == [("acme", "alice")]


async def test_an_org_cannot_log_in_or_get_a_password_checked(people):
    await people.create_org("acme", "alice")
    with pytest.raises(Unauthenticated):
        await people.check_password("acme", "")


@pytest.mark.parametrize("login", ["api", "bad login", "", "alice"])
async def test_create_org_bad_names(people, login):
    with pytest.raises((Invalid, Conflict)):
        await people.create_org(login, "alice")


async def test_create_org_needs_an_enabled_user_creator(people):
    with pytest.raises(NotFound):
        await people.create_org("acme", "nobody")
    await people.create_org("acme", "alice")
    with pytest.raises(Invalid, match="organization"):
        await people.create_org("acme2", "acme")
    await people.set_disabled("bob", True)
    with pytest.raises(Forbidden):
        await people.create_org("acme3", "bob")
    assert [o.login for o in await people.list_orgs("alice")] == ["acme"]


# --- groups ---------------------------------------------------------------------------

@pytest.fixture
async def acme(people):
    await people.create_org("acme", "alice")
    return people


async def test_groups_and_members(acme, membership_events):
    core = acme
    g = await core.put_group("acme", "Devs", "write")
    assert (g.name, g.permission, g.members, g.packages) == ("devs", "write", (), ())
    g = await core.set_member("acme", "devs", "Bob", True)
    assert g.members == ("bob",)
    g = await core.set_package("acme", "devs", "hello", True)
    assert g.packages == ("hello",)
    assert [x.name for x in await core.list_groups("acme", member="bob")] == ["devs"]
    assert [o.login for o in await core.list_orgs("bob")] == ["acme"]
    g = await core.set_member("acme", "devs", "bob", False)
    assert g.members == ()
    assert ("acme", "bob") in membership_events and ("acme", "") in membership_events


async def test_group_errors(acme):
    core = acme
    with pytest.raises(NotFound):
        await core.put_group("bob", "devs", "read")  # a user, not an org
    with pytest.raises(NotFound):
        await core.get_group("acme", "nope")
    with pytest.raises(Invalid, match="permission"):
        await core.put_group("acme", "devs", "owner")
    with pytest.raises(Invalid, match="group name"):
        await core.put_group("acme", "bad/name", "read")
    with pytest.raises(Invalid, match="admin"):
        await core.put_group("acme", "owners", "read")
    with pytest.raises(NotFound):
        await core.set_member("acme", "owners", "nobody", True)
    with pytest.raises(NotFound, match="not a member"):
        await core.set_member("acme", "owners", "bob", False)
    await core.put_group("acme", "devs", "read")
    with pytest.raises(NotFound, match="not a package"):
        await core.set_package("acme", "devs", "x", False)
    with pytest.raises(Invalid):
        await core.set_package("acme", "devs", "a/b", True)


async def test_the_last_owner_stays(acme):
    core = acme
    with pytest.raises(Invalid, match="last owner"):
        await core.set_member("acme", "owners", "alice", False)
    await core.set_member("acme", "owners", "bob", True)  # an owner adds another owner
    g = await core.set_member("acme", "owners", "alice", False)
    assert g.members == ("bob",)


# --- permission -----------------------------------------------------------------------

async def test_permission_from_groups(acme):
    core = acme
    await core.put_group("acme", "writers", "write")
    await core.set_member("acme", "writers", "bob", True)
    await core.set_package("acme", "writers", "hello", True)
    await core.put_group("acme", "readers", "read")
    await core.set_member("acme", "readers", "bob", True)
    await core.set_package("acme", "readers", "other", True)
    assert await core.permission("alice", "acme", "anything") == "admin"
    assert await core.permission("alice", "acme") == "admin"
    assert await core.permission("bob", "acme", "hello") == "write"
    assert await core.permission("bob", "acme", "other") == "read"
    assert await core.permission("bob", "acme", "third") == "none"
    assert await core.permission("bob", "acme") == "read"
    assert await core.permission("carol", "acme", "hello") == "none"
    assert await core.permission("carol", "acme") == "none"
    # a user is admin of their own account, and nobody else is
    assert await core.permission("bob", "bob", "x") == "admin"
    assert await core.permission("alice", "bob", "x") == "none"
    # unknown principals and owners
    assert await core.permission("nobody", "acme", "hello") == "none"
    assert await core.permission("bob", "nope", "hello") == "none"
    assert await core.permission("", "acme", "hello") == "none"


async def test_permission_follows_changes_and_disabled_accounts(acme):
    core = acme
    await core.set_member("acme", "owners", "bob", True)
    assert await core.permission("bob", "acme", "x") == "admin"
    await core.set_disabled("bob", True)
    assert await core.permission("bob", "acme", "x") == "none"
    await core.set_disabled("bob", False)
    await core.set_member("acme", "owners", "bob", False)
    assert await core.permission("bob", "acme", "x") == "none"
