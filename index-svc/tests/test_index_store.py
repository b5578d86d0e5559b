"""The IndexStore contract, run over SQLite, mongomock-motor and (if configured) MongoDB."""

from __future__ import annotations

import json

import pytest
from pkgcloud_index.store import (
    AppliedEvent,
    IndexedFile,
    IndexStore,
    OwnerStatus,
    RemoveFile,
    RemovePackage,
    SetPackagePrivacy,
    UnknownChange,
    UpsertFile,
)


def a_file(owner="alice", package="numpy", version="1.0", basename="linux-64/numpy-1.0-0.tar.bz2", **kw) -> IndexedFile:
    fields = dict(
        type="conda",
        subdir=basename.split("/")[0] if "/" in basename else "",
        labels=("main",),
        sha256="ab" * 32,
        size=1234,
        public=True,
        attrs_json=json.dumps({"name": package}),
    )
    fields.update(kw)
    return IndexedFile(owner=owner, package=package, version=version, basename=basename, **fields)


def an_event(event_id: str, owner="alice", event_type="file.committed", at=1000) -> AppliedEvent:
    return AppliedEvent(event_id=event_id, event_type=event_type, owner=owner, applied_at_ms=at)


async def test_implements_the_interface(index_store):
    assert isinstance(index_store, IndexStore)


async def test_fresh_store_is_empty(index_store):
    assert await index_store.owner_statuses() == []
    assert await index_store.owner_statuses("alice") == []
    assert await index_store.list_files("alice") == []
    assert not await index_store.is_applied("e1")


async def test_apply_records_file_and_status(index_store):
    f = a_file()
    assert await index_store.apply_event(an_event("e1", at=5000), [UpsertFile(f)])
    assert await index_store.is_applied("e1")
    assert await index_store.list_files("alice") == [f]
    assert await index_store.owner_statuses("alice") == [
        OwnerStatus(owner="alice", last_event_id="e1", last_event_type="file.committed", applied_at_ms=5000, events_applied=1)
    ]


async def test_duplicate_event_changes_nothing(index_store):
    f = a_file()
    assert await index_store.apply_event(an_event("e1", at=1), [UpsertFile(f)])
    assert await index_store.apply_event(an_event("e2", event_type="file.removed", at=2), [RemoveFile("alice", "numpy", "1.0", f.basename)])
    # e1 again (a redelivery after e2): it must not resurrect the file nor count again
    assert not await index_store.apply_event(an_event("e1", at=3), [UpsertFile(f)])
    assert await index_store.list_files("alice") == []
    [status] = await index_store.owner_statuses("alice")
    assert (status.last_event_id, status.applied_at_ms, status.events_applied) == ("e2", 2, 2)


async def test_upsert_replaces_the_file_with_the_same_key(index_store):
    await index_store.apply_event(an_event("e1"), [UpsertFile(a_file(labels=("main",), sha256="aa" * 32))])
    newer = a_file(labels=("dev", "main"), sha256="bb" * 32, size=99, public=False, attrs_json="{}")
    await index_store.apply_event(an_event("e2", event_type="file.labels_changed"), [UpsertFile(newer)])
    assert await index_store.list_files("alice") == [newer]


async def test_files_are_per_owner_and_sorted(index_store):
    files = [
        a_file(package="scipy", version="2.0", basename="noarch/scipy-2.0-0.tar.bz2"),
        a_file(package="numpy", version="1.1", basename="linux-64/numpy-1.1-0.tar.bz2"),
        a_file(package="numpy", version="1.0", basename="osx-64/numpy-1.0-0.tar.bz2"),
        a_file(package="numpy", version="1.0", basename="linux-64/numpy-1.0-0.tar.bz2"),
        a_file(owner="bob", package="numpy"),
    ]
    for i, f in enumerate(files):
        await index_store.apply_event(an_event(f"e{i}", owner=f.owner), [UpsertFile(f)])
    alice = await index_store.list_files("alice")
    assert [(f.package, f.version, f.basename) for f in alice] == sorted((f.package, f.version, f.basename) for f in files[:4])
    assert await index_store.list_files("alice", "scipy") == [files[0]]
    assert await index_store.list_files("bob") == [files[4]]
    assert await index_store.list_files("carol") == []


async def test_remove_file_and_package(index_store):
    keep = a_file(package="scipy", basename="noarch/scipy-1.0-0.tar.bz2")
    one = a_file(version="1.0", basename="linux-64/numpy-1.0-0.tar.bz2")
    two = a_file(version="2.0", basename="linux-64/numpy-2.0-0.tar.bz2")
    bobs = a_file(owner="bob")
    await index_store.apply_event(an_event("e1"), [UpsertFile(keep), UpsertFile(one), UpsertFile(two)])
    await index_store.apply_event(an_event("b1", owner="bob"), [UpsertFile(bobs)])
    await index_store.apply_event(an_event("e2", event_type="file.removed"), [RemoveFile("alice", "numpy", "1.0", one.basename)])
    assert await index_store.list_files("alice") == [two, keep]
    # removing what is not there is not an error (the registry's view is the truth)
    await index_store.apply_event(an_event("e3", event_type="file.removed"), [RemoveFile("alice", "numpy", "9", "x")])
    await index_store.apply_event(an_event("e4", event_type="package.removed"), [RemovePackage("alice", "numpy")])
    assert await index_store.list_files("alice") == [keep]
    assert await index_store.list_files("bob") == [bobs]


async def test_privacy_change_touches_only_that_package(index_store):
    np1 = a_file(version="1.0", basename="linux-64/numpy-1.0-0.tar.bz2")
    np2 = a_file(version="2.0", basename="linux-64/numpy-2.0-0.tar.bz2")
    sp = a_file(package="scipy", basename="noarch/scipy-1.0-0.tar.bz2")
    bobs = a_file(owner="bob")
    await index_store.apply_event(an_event("e1"), [UpsertFile(np1), UpsertFile(np2), UpsertFile(sp)])
    await index_store.apply_event(an_event("b1", owner="bob"), [UpsertFile(bobs)])
    await index_store.apply_event(an_event("e2", event_type="package.privacy_changed"), [SetPackagePrivacy("alice", "numpy", False)])
    public = {(f.owner, f.package, f.version): f.public for f in await index_store.list_files("alice") + await index_store.list_files("bob")}
    assert public == {("alice", "numpy", "1.0"): False, ("alice", "numpy", "2.0"): False, ("alice", "scipy", "1.0"): True, ("bob", "numpy", "1.0"): True}


async def test_status_per_owner(index_store):
    await index_store.apply_event(an_event("a1", owner="alice", at=10), [UpsertFile(a_file(owner="alice"))])
    await index_store.apply_event(an_event("b1", owner="bob", at=11), [UpsertFile(a_file(owner="bob"))])
    await index_store.apply_event(an_event("a2", owner="alice", event_type="package.removed", at=12), [RemovePackage("alice", "numpy")])
    await index_store.apply_event(an_event("c1", owner="carol", event_type="file.future_kind", at=13), [])
    statuses = await index_store.owner_statuses()
    assert statuses == [
        OwnerStatus("alice", "a2", "package.removed", 12, 2),
        OwnerStatus("bob", "b1", "file.committed", 11, 1),
        OwnerStatus("carol", "c1", "file.future_kind", 13, 1),
    ]
    assert await index_store.owner_statuses("bob") == [statuses[1]]
    assert await index_store.owner_statuses("dave") == []


async def test_failed_apply_leaves_nothing_and_can_be_retried(index_store):
    f = a_file()
    with pytest.raises(UnknownChange):
        await index_store.apply_event(an_event("e1"), [UpsertFile(f), "not a change"])
    assert not await index_store.is_applied("e1")
    assert await index_store.list_files("alice") == []
    assert await index_store.owner_statuses() == []
    assert await index_store.apply_event(an_event("e1"), [UpsertFile(f)])
    assert await index_store.list_files("alice") == [f]
    [status] = await index_store.owner_statuses()
    assert status.events_applied == 1


async def test_basename_with_slash_and_unicode_round_trips(index_store):
    f = a_file(package="données", basename="noarch/données-1.0-py_0.conda", labels=("main", "ß-label"), attrs_json='{"é": 1}')
    await index_store.apply_event(an_event("e1"), [UpsertFile(f)])
    assert await index_store.list_files("alice", "données") == [f]
