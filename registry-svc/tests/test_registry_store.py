"""The RegistryStore contract, run over every implementation (conftest's store fixture)."""

import pytest
from pkgcloud_protos.v1 import events_pb2
from pkgcloud_registry.convert import file_record
from pkgcloud_registry.store import PackageRecord, ReleaseRecord, StagedUpload, StoredFile
from pkgcloud_servicekit.errors import Conflict, NotFound
from pkgcloud_servicekit.events import decode, new_event


def pkg(name="hello", owner="alice", **kw):
    return PackageRecord(owner=owner, name=name, created_at_ms=1, modified_at_ms=1, **kw)


def sfile(basename="a.txt", version="1.0", package="hello", owner="alice", sha="0" * 64, t=1):
    return StoredFile(
        owner=owner, package=package, version=version, basename=basename, type="file", sha256=sha, size=3, md5="m",
        blob_key=f"files/sha256/{sha[:2]}/{sha[2:4]}/{sha}", upload_time_ms=t,
    )


def committed(f):
    return new_event(f.owner, file_committed=events_pb2.FileCommitted(file=file_record(f, package_public=True)))


def removed_events(p, files):
    return [new_event(p.owner, file_removed=events_pb2.FileRemoved(file=file_record(f, package_public=p.public))) for f in files]


async def pending(store):
    return [decode(p.payload) for p in await store.pending_events(1000)]


async def with_release(store, version="1.0", name="hello"):
    if await store.get_package("alice", name) is None:
        await store.create_package(pkg(name))
    await store.create_release(ReleaseRecord(owner="alice", package=name, version=version, attrs={"n": 1}, created_at_ms=5))


async def test_package_crud(store):
    await store.create_package(pkg(public_attrs={"summary": "s"}, package_types=("conda",)))
    with pytest.raises(Conflict):
        await store.create_package(pkg())
    await store.create_package(pkg("other"))
    await store.create_package(pkg("hello", owner="bob"))
    got = await store.get_package("alice", "hello")
    assert got.public_attrs == {"summary": "s"} and got.package_types == ("conda",)
    assert [p.name for p in await store.list_packages("alice")] == ["hello", "other"]
    assert await store.get_package("alice", "nope") is None
    upd = await store.update_package("alice", "hello", summary="new", public_attrs={"x": [1, 2]}, package_types=("conda", "pypi"))
    assert upd.summary == "new" and upd.public_attrs == {"x": [1, 2]} and upd.package_types == ("conda", "pypi")
    assert await store.update_package("alice", "nope", summary="x") is None


async def test_release_crud(store):
    with pytest.raises(NotFound):
        await store.create_release(ReleaseRecord(owner="alice", package="hello", version="1.0"))
    await with_release(store, "1.0")
    await store.create_release(ReleaseRecord(owner="alice", package="hello", version="2.0", created_at_ms=9))
    with pytest.raises(Conflict):
        await store.create_release(ReleaseRecord(owner="alice", package="hello", version="1.0"))
    assert [r.version for r in await store.list_releases("alice", "hello")] == ["1.0", "2.0"]
    assert (await store.get_release("alice", "hello", "1.0")).attrs == {"n": 1}
    assert (await store.update_release("alice", "hello", "1.0", {"n": 2})).attrs == {"n": 2}
    assert await store.update_release("alice", "hello", "3.0", {}) is None
    assert await store.get_release("alice", "hello", "3.0") is None


async def test_add_file_stores_event_and_enforces_unique_basename(store):
    await with_release(store)
    f = sfile()
    ev = committed(f)
    await store.add_file(f, ev, package_type="file", modified_at_ms=7)
    assert await store.get_file("alice", "hello", "1.0", "a.txt") == f
    p = await store.get_package("alice", "hello")
    assert p.package_types == ("file",) and p.modified_at_ms == 7
    with pytest.raises(Conflict, match="file a.txt already exists for package hello version 1.0"):
        await store.add_file(sfile(sha="1" * 64), committed(f), package_type="file", modified_at_ms=8)
    assert [e.id for e in await pending(store)] == [ev.id]  # the refused write stored no event
    with pytest.raises(NotFound):
        await store.add_file(sfile(version="9"), committed(f), package_type="file", modified_at_ms=8)


async def test_delete_file_stores_event_and_frees_the_basename(store):
    await with_release(store)
    f = sfile()
    await store.add_file(f, committed(f), package_type="file", modified_at_ms=2)
    assert await store.sha256_in_use(f.sha256)
    gone = await store.delete_file("alice", "hello", "1.0", "a.txt", lambda p, x: removed_events(p, [x])[0])
    assert gone == f
    assert await store.get_file("alice", "hello", "1.0", "a.txt") is None
    assert not await store.sha256_in_use(f.sha256)
    assert await store.delete_file("alice", "hello", "1.0", "a.txt", lambda p, x: removed_events(p, [x])[0]) is None
    assert [e.type for e in await pending(store)] == ["file.committed", "file.removed"]
    # the same basename can be uploaded again
    await store.add_file(f, committed(f), package_type="file", modified_at_ms=3)
    assert await store.get_file("alice", "hello", "1.0", "a.txt") == f


async def test_delete_release_removes_its_files_with_one_event_each(store):
    await with_release(store, "1.0")
    await with_release(store, "2.0")
    a, b, c = sfile("a", sha="a" * 64), sfile("b", sha="b" * 64), sfile("c", version="2.0", sha="c" * 64)
    for f in (a, b, c):
        await store.add_file(f, committed(f), package_type="file", modified_at_ms=2)
    gone = await store.delete_release("alice", "hello", "1.0", removed_events)
    assert sorted(f.basename for f in gone) == ["a", "b"]
    assert await store.get_release("alice", "hello", "1.0") is None
    assert [f.basename for f in await store.list_files("alice", "hello")] == ["c"]
    evs = await pending(store)
    assert [e.type for e in evs] == ["file.committed"] * 3 + ["file.removed"] * 2
    assert sorted(e.file_removed.file.basename for e in evs[3:]) == ["a", "b"]
    assert await store.delete_release("alice", "hello", "1.0", removed_events) is None


async def test_delete_package_removes_everything_with_one_event(store):
    await with_release(store)
    f = sfile()
    await store.add_file(f, committed(f), package_type="file", modified_at_ms=2)
    seen = []

    def events(p, files):
        seen.extend(files)
        return [new_event(p.owner, package_removed=events_pb2.PackageRemoved(package=p.name, files=[file_record(x, package_public=True) for x in files]))]

    gone = await store.delete_package("alice", "hello", events)
    assert gone == [f] and seen == [f]
    assert await store.get_package("alice", "hello") is None
    assert await store.get_file("alice", "hello", "1.0", "a.txt") is None
    assert await store.list_files("alice", "hello") == []
    assert await store.delete_package("alice", "hello", events) is None
    evs = await pending(store)
    assert [e.type for e in evs] == ["file.committed", "package.removed"]
    assert [x.basename for x in evs[1].package_removed.files] == ["a.txt"]
    # the name is free again and starts empty
    await with_release(store)
    assert await store.list_files("alice", "hello") == []
    assert [r.version for r in await store.list_releases("alice", "hello")] == ["1.0"]


async def test_outbox_order_and_mark_sent(store):
    await with_release(store)
    ids = []
    for i in range(5):
        f = sfile(f"f{i}", sha=f"{i}" * 64, t=i)
        ev = committed(f)
        ids.append(ev.id)
        await store.add_file(f, ev, package_type="file", modified_at_ms=i)
    batch = await store.pending_events(3)
    assert [p.event_id for p in batch] == ids[:3]
    await store.mark_sent(batch)
    assert [p.event_id for p in await store.pending_events(100)] == ids[3:]
    await store.mark_sent(await store.pending_events(100))
    assert await store.pending_events(100) == []


async def test_outbox_survives_reopen(store_factory):
    s1 = await store_factory.open()
    await with_release(s1)
    f = sfile()
    ev = committed(f)
    await s1.add_file(f, ev, package_type="file", modified_at_ms=1)
    await s1.close()
    s2 = await store_factory.open()
    assert [p.event_id for p in await s2.pending_events()] == [ev.id]
    assert await s2.get_file("alice", "hello", "1.0", "a.txt") == f


async def test_downloads_are_counted(store):
    await with_release(store)
    f = sfile()
    await store.add_file(f, committed(f), package_type="file", modified_at_ms=1)
    assert (await store.increment_downloads("alice", "hello", "1.0", "a.txt")).download_count == 1
    assert (await store.increment_downloads("alice", "hello", "1.0", "a.txt")).download_count == 2
    assert await store.increment_downloads("alice", "hello", "1.0", "zzz") is None


async def test_staged_uploads(store):
    await with_release(store)
    st = StagedUpload(
        dist_id="d1", owner="alice", package="hello", version="1.0", basename="a.txt", upload_key="uploads/k1",
        distribution_type="file", sha256="0" * 64, labels=("main", "dev"), expires_at_ms=100,
    )
    await store.put_stage(st)
    await store.put_stage(StagedUpload(**{**st.__dict__, "dist_id": "d2", "upload_key": "uploads/k2", "expires_at_ms": 300}))
    assert await store.get_stage("d1") == st
    assert await store.get_stage_by_key("uploads/k1") == st
    assert await store.get_stage("nope") is None
    assert [s.dist_id for s in await store.expired_stages(200)] == ["d1"]
    await store.mark_stage_committed("d1")
    assert (await store.get_stage("d1")).state == "committed"
    f = sfile()
    await store.add_file(f, committed(f), package_type="file", modified_at_ms=1, commit_dist_id="d2")
    assert (await store.get_stage("d2")).state == "committed"
    await store.delete_stage("d1")
    assert await store.get_stage("d1") is None
