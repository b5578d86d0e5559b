"""Labels over every store backend, and the conda inspector's refusals."""

import json

import pytest
from e2e_harness.conda_packages import build, conda_without_pkg, index_json, tar_bz2
from pkgcloud_servicekit.errors import Conflict, Forbidden, Invalid, NotFound
from pkgcloud_servicekit.events import decode


async def _events(core):
    return [decode(p.payload) for p in await core.store.pending_events(1000)]


@pytest.fixture
async def two(core, h, tmp_path):
    await h.release(core, package="walk", version="1.0")
    await h.release(core, package="walk", version="2.0")
    a = build(tmp_path, "walk", "1.0")
    b = build(tmp_path, "walk", "2.0")
    await h.upload(core, "alice", "walk", "1.0", "noarch/" + a.name, a.read_bytes(), distribution_type="conda")
    await h.upload(core, "alice", "walk", "2.0", "noarch/" + b.name, b.read_bytes(), distribution_type="conda", labels=["test"])
    return a, b


async def test_label_walkthrough(core, h, two, tmp_path):
    labels = {i.name: (i.is_locked, i.file_count) for i in await core.labels.list("alice")}
    assert labels == {"main": (False, 1), "test": (False, 1)}
    changed = await core.labels.copy_label("alice", "test", "main")
    assert [c.file.labels for c in changed] == [("test", "main")]
    ev = (await _events(core))[-1]
    assert ev.type == "file.labels_changed" and list(ev.file_labels_changed.previous_labels) == ["test"]
    assert list(ev.file_labels_changed.file.labels) == ["test", "main"]

    await core.labels.set_locked("alice", "test", True)
    c = build(tmp_path, "walk", "2.0", build_string="1")
    with pytest.raises(Forbidden, match="locked"):
        await h.upload(core, "alice", "walk", "2.0", "noarch/" + c.name, c.read_bytes(), distribution_type="conda", labels=["test"])
    with pytest.raises(Forbidden):
        await core.delete_file("alice", "walk", "2.0", "noarch/walk-2.0-0.conda")
    assert [(i.name, i.is_locked) for i in await core.labels.list("alice")] == [("main", False), ("test", True)]
    await core.labels.set_locked("alice", "test", False)

    removed = await core.labels.remove("alice", "test")
    assert [c.file.labels for c in removed] == [("main",)]
    with pytest.raises(NotFound):
        await core.labels.show("alice", "test")


async def test_copy_and_move(core, two):
    first = await core.labels.copy_files("alice", "walk", "1.0", "", "main", "main2")
    assert [c.file.labels for c in first] == [("main", "main2")]
    with pytest.raises(Conflict):  # already in main2 (a copy without --replace/--update)
        await core.labels.copy_files("alice", "walk", "1.0", "", "main", "main2")
    again = await core.labels.copy_files("alice", "walk", "1.0", "", "main", "main2", mode="replace")
    assert [c.file.basename for c in again] == ["noarch/walk-1.0-0.conda"]
    with pytest.raises(Invalid):  # other owners: owner_copy, below
        await core.labels.copy_files("alice", "walk", "1.0", "", "main", "x", to_owner="bob")
    await core.labels.add("alice", "old", package="walk", version="1.0")
    await core.labels.remove("alice", "main", package="walk", version="1.0")  # anaconda move = add + remove
    f = (await core.get_file("alice", "walk", "1.0", "noarch/walk-1.0-0.conda")).file
    assert f.labels == ("main2", "old")


async def test_copy_to_another_owner(core, two):
    from pkgcloud_registry.owner_copy import copy_to_owner
    from pkgcloud_servicekit.blobstore import content_key

    source = (await core.get_file("alice", "walk", "1.0", "noarch/walk-1.0-0.conda")).file
    before = len(await _events(core))
    copied = await copy_to_owner(core, "alice", "walk", "1.0", "", "main", "stable", "bob")
    assert [(c.file.owner, c.file.labels, c.file.sha256, c.file.blob_key) for c in copied] == [
        ("bob", ("stable",), source.sha256, source.blob_key)]
    assert (await core.get_package("bob", "walk")).package.public == (await core.get_package("alice", "walk")).package.public
    ev = (await _events(core))[before:]
    assert [e.type for e in ev] == ["file.committed"] and ev[0].owner == "bob" and list(ev[0].file_committed.file.labels) == ["stable"]
    with pytest.raises(Conflict, match="--replace"):  # already there, in that label
        await copy_to_owner(core, "alice", "walk", "1.0", "", "main", "stable", "bob")
    again = await copy_to_owner(core, "alice", "walk", "1.0", "", "main", "beta", "bob", mode="update")
    assert [c.file.labels for c in again] == [("stable", "beta")]  # identical bytes: a label more
    with pytest.raises(NotFound):  # 2.0 is in alice's "test" label, not in main
        await copy_to_owner(core, "alice", "walk", "2.0", "", "main", "stable", "bob")
    with pytest.raises(Invalid):
        await copy_to_owner(core, "alice", "walk", "1.0", "", "main", "stable", "bob", mode="merge")
    # the blob is shared: removing the source keeps bob's copy readable
    await core.delete_file("alice", "walk", "1.0", "noarch/walk-1.0-0.conda")
    assert await core.blobs.exists(content_key(source.sha256))
    assert (await core.get_file("bob", "walk", "1.0", "noarch/walk-1.0-0.conda")).file.sha256 == source.sha256


async def test_copy_to_another_owner_refuses_a_locked_label(core, two):
    from pkgcloud_registry.owner_copy import copy_to_owner

    await copy_to_owner(core, "alice", "walk", "1.0", "", "main", "stable", "bob")
    await core.labels.set_locked("bob", "stable", True)
    with pytest.raises(Forbidden, match="locked"):
        await copy_to_owner(core, "alice", "walk", "1.0", "", "main", "stable", "bob", mode="replace")


@pytest.mark.parametrize("case", ["truncated", "no-inner", "traversal", "mismatch", "huge", "nonutf8", "subdir"])
async def test_bad_packages_are_refused(core, h, tmp_path, case):
    good = build(tmp_path, "bad", "1.0")
    data, basename = {
        "truncated": (good.read_bytes()[:300], "noarch/bad-1.0-0.conda"),
        "no-inner": (conda_without_pkg(good), "noarch/bad-1.0-0.conda"),
        "traversal": (tar_bz2({"info/index.json": index_json("bad", "1.0"), "../x": b"x"}), "noarch/bad-1.0-0.tar.bz2"),
        "mismatch": (tar_bz2({"info/index.json": index_json("other", "1.0")}), "noarch/bad-1.0-0.tar.bz2"),
        "huge": (tar_bz2({"info/index.json": b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'}), "noarch/bad-1.0-0.tar.bz2"),
        "nonutf8": (tar_bz2({"info/index.json": index_json("bad", "1.0")[:-1] + b', "x": "\xe9"}'}), "noarch/bad-1.0-0.tar.bz2"),
        "subdir": (tar_bz2({"info/index.json": index_json("bad", "1.0", subdir="Weird_1")}), "Weird_1/bad-1.0-0.tar.bz2"),
    }[case]
    await h.release(core, package="bad", version="1.0")
    with pytest.raises(Invalid):
        await h.upload(core, "alice", "bad", "1.0", basename, data, distribution_type="conda")
    assert await core.store.list_files("alice", "bad") == []
    assert [k async for k in core.blobs.list("")] == []  # nothing left behind
    assert json.dumps([e.type for e in await _events(core)]) == "[]"
