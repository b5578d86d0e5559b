"""Private packages and authorized users: the store contract over every implementation and
the core's announcements (package.privacy_changed through the outbox)."""

import pytest
from pkgcloud_protos.v1 import events_pb2
from pkgcloud_registry.store import PackageRecord
from pkgcloud_servicekit.errors import Invalid, NotFound
from pkgcloud_servicekit.events import decode, new_event


def pkg(name="hello", owner="alice", **kw):
    return PackageRecord(owner=owner, name=name, created_at_ms=1, modified_at_ms=1, **kw)


def privacy_event(p, files):
    return new_event(p.owner, package_privacy_changed=events_pb2.PackagePrivacyChanged(package=p.name, public=p.public))


async def pending(store):
    return [decode(p.payload) for p in await store.pending_events(1000)]


async def test_set_public_stores_one_event_only_on_a_change(store):
    await store.create_package(pkg())
    assert (await store.set_package_public("alice", "hello", True, 5, privacy_event)).public is True
    assert await pending(store) == []
    after = await store.set_package_public("alice", "hello", False, 6, privacy_event)
    assert after.public is False and after.modified_at_ms == 6
    assert (await store.get_package("alice", "hello")).public is False
    [ev] = await pending(store)
    assert ev.type == "package.privacy_changed" and ev.package_privacy_changed.public is False
    assert await store.set_package_public("alice", "nope", False, 7, privacy_event) is None


async def test_collaborators_are_per_package_idempotent_and_go_with_the_package(store):
    await store.create_package(pkg("a"))
    await store.create_package(pkg("b"))
    await store.create_package(pkg("c", owner="zed"))
    assert await store.list_collaborators("alice", "a") == []
    assert await store.add_collaborator("alice", "a", "bob") == ["bob"]
    assert await store.add_collaborator("alice", "a", "bob") == ["bob"]
    assert await store.add_collaborator("alice", "a", "amy") == ["amy", "bob"]
    await store.add_collaborator("alice", "b", "bob")
    await store.add_collaborator("zed", "c", "bob")
    assert await store.collaborations("bob", "alice") == ["a", "b"]
    assert await store.collaborations("bob", "zed") == ["c"]
    assert await store.collaborations("amy", "zed") == []
    assert await store.remove_collaborator("alice", "a", "bob") == ["amy"]
    assert await store.remove_collaborator("alice", "a", "bob") == ["amy"]
    assert await store.collaborations("bob", "alice") == ["b"]
    assert await store.add_collaborator("alice", "missing", "bob") is None
    assert await store.list_collaborators("alice", "missing") is None
    await store.delete_package("alice", "b", lambda p, files: [])
    assert await store.collaborations("bob", "alice") == []
    await store.create_package(pkg("b"))  # a new package of that name starts with nobody
    assert await store.list_collaborators("alice", "b") == []


async def test_search_matches_a_substring_of_any_owner_case_insensitively(store):
    for owner, name in [("alice", "NumPy"), ("bob", "numpy-ext"), ("bob", "scipy"), ("carol", "num_x")]:
        await store.create_package(pkg(name, owner=owner))
    assert [(p.owner, p.name) for p in await store.search_packages("nump", 10)] == [("alice", "NumPy"), ("bob", "numpy-ext")]
    assert [p.name for p in await store.search_packages("_", 10)] == ["num_x"]  # no LIKE wildcard
    assert len(await store.search_packages("", 2)) == 2


async def test_search_newest_first_and_public_only(store):
    for owner, name, modified, public in [("alice", "old", 1, True), ("bob", "new", 3, True), ("carol", "hidden", 4, False),
                                          ("dave", "mid", 2, True)]:
        await store.create_package(PackageRecord(owner=owner, name=name, public=public, created_at_ms=1, modified_at_ms=modified))
    newest = await store.search_packages("", 10, newest_first=True)
    assert [p.name for p in newest] == ["hidden", "new", "mid", "old"]
    assert [p.name for p in await store.search_packages("", 2, newest_first=True, public_only=True)] == ["new", "mid"]
    assert [p.name for p in await store.search_packages("", 10, public_only=True)] == ["old", "new", "mid"]


async def test_core_search_carries_versions(core, h):
    await h.release(core, version="1.0")
    await core.create_release("alice", "hello", "2.0", "{}")
    [(pkg_, versions, files)] = await core.access.search("hell")
    assert pkg_.name == "hello" and sorted(versions) == ["1.0", "2.0"] and files == []  # in creation order (ties: any)


async def test_core_privacy_change_is_announced_with_the_files(core, h, bus, recorder):
    from pkgcloud_registry.outbox import OutboxRelay

    await h.release(core)
    await h.upload(core, "alice", "hello", "1.0", "a.txt", b"abc")
    await core.access.set_public("alice", "hello", False)
    assert (await core.get_package("alice", "hello")).package.public is False
    relay = OutboxRelay(core.store, bus)
    await relay.drain()
    changed = [e for e in recorder.events if e.type == "package.privacy_changed"]
    assert len(changed) == 1
    assert [f.basename for f in changed[0].package_privacy_changed.files] == ["a.txt"]
    assert changed[0].package_privacy_changed.files[0].package_public is False
    with pytest.raises(NotFound):
        await core.access.set_public("alice", "nope", True)


async def test_core_collaborator_logins_are_normalized_and_validated(core):
    await core.create_package("alice", "hello")
    assert await core.access.add_collaborator("alice", "hello", " Bob ") == ["bob"]
    assert await core.access.collaborations("BOB", "alice") == ["hello"]
    with pytest.raises(Invalid):
        await core.access.add_collaborator("alice", "hello", "no/slash")
    with pytest.raises(NotFound):
        await core.access.collaborators("alice", "nope")
