"""Yanking (PEP 592): the store contract over every backend, then RegistryCore's rules."""

from __future__ import annotations

import io
import zipfile

import pytest
from pkgcloud_protos.v1 import events_pb2
from pkgcloud_registry.convert import file_record
from pkgcloud_registry.store import PackageRecord, ReleaseRecord, StoredFile
from pkgcloud_servicekit.audit import AuditQuery
from pkgcloud_servicekit.errors import Invalid, NotFound
from pkgcloud_servicekit.events import decode, new_event


def wheel() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("demo_pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\n")
        zf.writestr("demo_pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    return buf.getvalue()


def _yank_event(p, f):
    return new_event(p.owner, file_yank_changed=events_pb2.FileYankChanged(file=file_record(f, package_public=p.public)))


async def _pending(store):
    return [decode(p.payload) for p in await store.pending_events(1000)]


async def test_store_sets_yanked_with_its_event(store_factory):
    store = await store_factory.open()
    await store.create_package(PackageRecord(owner="alice", name="demo", created_at_ms=1, modified_at_ms=1))
    await store.create_release(ReleaseRecord(owner="alice", package="demo", version="1.0", created_at_ms=1))
    f = StoredFile(owner="alice", package="demo", version="1.0", basename="demo-1.0.tar.gz", type="pypi", sha256="a" * 64,
                   size=3, md5="m", blob_key="k", upload_time_ms=1)
    await store.add_file(f, new_event("alice", file_committed=events_pb2.FileCommitted()), package_type="pypi", modified_at_ms=1)
    assert (await store.get_file("alice", "demo", "1.0", f.basename)).yanked is False

    after = await store.set_file_yanked("alice", "demo", "1.0", f.basename, True, "broken build", _yank_event)
    assert after == f.with_(yanked=True, yanked_reason="broken build")
    assert await store.get_file("alice", "demo", "1.0", f.basename) == after
    assert (await store.list_owner_files("alice"))[0].yanked_reason == "broken build"
    events = await _pending(store)
    assert [e.type for e in events] == ["file.committed", "file.yank_changed"]
    assert events[1].file_yank_changed.file.yanked and events[1].file_yank_changed.file.yanked_reason == "broken build"
    assert await store.set_file_yanked("alice", "demo", "1.0", "nope.tar.gz", True, "", _yank_event) is None

    # the state survives a restart
    reopened = await store_factory.open()
    assert (await reopened.get_file("alice", "demo", "1.0", f.basename)).yanked is True
    back = await reopened.set_file_yanked("alice", "demo", "1.0", f.basename, False, "", _yank_event)
    assert back.yanked is False and back.yanked_reason == ""


async def _pypi_upload(core, h, basename="demo_pkg-1.0-py3-none-any.whl"):
    await core.create_package("alice", "demo-pkg", package_types=["pypi"])
    await core.create_release("alice", "demo-pkg", "1.0")
    return await h.upload(core, "alice", "demo-pkg", "1.0", basename, wheel(), distribution_type="pypi")


async def test_core_yank_and_unyank(core, h):
    await _pypi_upload(core, h)
    ref = ("alice", "demo-pkg", "1.0", "demo_pkg-1.0-py3-none-any.whl")
    v = await core.set_yanked(*ref, True, "  security\n issue ")
    assert v.file.yanked and v.file.yanked_reason == "security issue"  # one line: pip prints it
    assert file_record(v.file, package_public=True).yanked_reason == "security issue"
    before = len(await core.store.pending_events(1000))
    await core.set_yanked(*ref, True, "security issue")  # already so: nothing announced
    assert len(await core.store.pending_events(1000)) == before
    v = await core.set_yanked(*ref, False, "ignored when un-yanking")
    assert not v.file.yanked and v.file.yanked_reason == ""
    types = [decode(p.payload).type for p in await core.store.pending_events(1000)]
    assert types.count("file.yank_changed") == 2


async def test_core_yank_refusals(core, h):
    await _pypi_upload(core, h)
    with pytest.raises(NotFound):
        await core.set_yanked("alice", "demo-pkg", "1.0", "missing-1.0.tar.gz", True, "")
    with pytest.raises(Invalid, match="limit"):
        await core.set_yanked("alice", "demo-pkg", "1.0", "demo_pkg-1.0-py3-none-any.whl", True, "x" * 1001)
    await h.release(core, "alice", "plain", "1.0")
    await h.upload(core, "alice", "plain", "1.0", "a.txt", b"abc")
    with pytest.raises(Invalid, match="only Python distributions"):
        await core.set_yanked("alice", "plain", "1.0", "a.txt", True, "")
    assert not (await core.get_file("alice", "demo-pkg", "1.0", "demo_pkg-1.0-py3-none-any.whl")).file.yanked



# --- a release at once (the SetReleaseYanked RPC, issue 11) --------------------------------

DISTS = ("tiny_yank-1.0-py3-none-any.whl", "tiny_yank-1.0.tar.gz")


async def _release_of_two(core):
    """Tiny_Yank 1.0 with a wheel, an sdist and a plain file, as committed files."""
    await core.create_package("alice", "Tiny_Yank", package_types=["pypi"])
    await core.create_release("alice", "Tiny_Yank", "1.0")
    for basename, kind in ((DISTS[0], "pypi"), (DISTS[1], "pypi"), ("notes.txt", "file")):
        f = StoredFile(owner="alice", package="Tiny_Yank", version="1.0", basename=basename, type=kind, sha256="a" * 64,
                       size=3, md5="m", blob_key="k", upload_time_ms=1)
        await core.store.add_file(f, new_event("alice", file_committed=events_pb2.FileCommitted()), package_type=kind, modified_at_ms=1)


async def _yank_events(core) -> list[tuple[str, bool]]:
    return [(e.file_yank_changed.file.basename, e.file_yank_changed.file.yanked) for e in await _pending(core.store)
            if e.type == "file.yank_changed"]


async def _yank_trail(core) -> list[tuple[str, str]]:
    return sorted((e.action, e.target) for e in await core.list_audit(AuditQuery("alice", limit=500)) if "yank" in e.action)


async def test_release_yank_by_normalized_name_changes_every_distribution(core):
    await _release_of_two(core)
    package, views = await core.set_release_yanked("alice", "tiny-yank", "1.0", [], True, " broken\n build ")
    assert package == "Tiny_Yank"
    assert sorted((v.file.basename, v.file.yanked, v.file.yanked_reason) for v in views) == [
        (DISTS[0], True, "broken build"), (DISTS[1], True, "broken build")]
    assert not (await core.get_file("alice", "Tiny_Yank", "1.0", "notes.txt")).file.yanked  # not a distribution
    assert sorted(await _yank_events(core)) == [(DISTS[0], True), (DISTS[1], True)]
    assert await _yank_trail(core) == [("file.yank", f"alice/Tiny_Yank/1.0/{b}") for b in DISTS]

    # again: nothing changes, nothing is announced or recorded
    await core.set_release_yanked("alice", "TINY.YANK", "1.0", [], True, "broken build")
    assert len(await _yank_events(core)) == 2 and len(await _yank_trail(core)) == 2

    # one file of it back
    package, views = await core.set_release_yanked("alice", "Tiny_Yank", "1.0", [DISTS[1]], False, "ignored")
    assert [(v.file.basename, v.file.yanked, v.file.yanked_reason) for v in views] == [(DISTS[1], False, "")]
    assert (await core.get_file("alice", "Tiny_Yank", "1.0", DISTS[0])).file.yanked
    assert (await _yank_events(core))[-1] == (DISTS[1], False)
    assert ("file.unyank", f"alice/Tiny_Yank/1.0/{DISTS[1]}") in await _yank_trail(core)


async def test_release_yank_refusals_change_nothing(core):
    await _release_of_two(core)
    with pytest.raises(NotFound, match="no project 'nope'"):
        await core.set_release_yanked("alice", "nope", "1.0", [], True)
    with pytest.raises(NotFound, match="Release not found"):
        await core.set_release_yanked("alice", "tiny-yank", "9.9", [], True)
    with pytest.raises(NotFound, match="Distribution not found"):  # every file is checked before any changes
        await core.set_release_yanked("alice", "tiny-yank", "1.0", [DISTS[0], "missing-1.0.tar.gz"], True)
    with pytest.raises(Invalid, match="only Python distributions"):
        await core.set_release_yanked("alice", "tiny-yank", "1.0", [DISTS[0], "notes.txt"], True)
    with pytest.raises(Invalid, match="limit"):
        await core.set_release_yanked("alice", "tiny-yank", "1.0", [], True, "x" * 1001)
    await core.create_release("alice", "Tiny_Yank", "2.0")
    with pytest.raises(NotFound, match="no Python distributions"):
        await core.set_release_yanked("alice", "tiny-yank", "2.0", [], True)
    assert await _yank_events(core) == [] and await _yank_trail(core) == []
    assert not any(f.yanked for f in await core.store.list_files("alice", "Tiny_Yank"))
