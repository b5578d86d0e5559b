"""RegistryCore with a real FilesystemBlobStore, over every store backend."""

import asyncio
import hashlib
import json

import pytest
from pkgcloud_registry.outbox import OutboxRelay
from pkgcloud_registry.privacy import ReadAccess
from pkgcloud_servicekit.blobstore import content_key
from pkgcloud_servicekit.errors import Conflict, Invalid, NotFound
from pkgcloud_servicekit.events import decode

DATA = b"hello world\n"


async def events(core):
    return [decode(p.payload) for p in await core.store.pending_events(1000)]


async def blob_keys(core, prefix=""):
    return sorted([k async for k in core.blobs.list(prefix)])


async def test_stage_commit_happy_path(core, h, tmp_path):
    from e2e_harness.conda_packages import build

    DATA = build(tmp_path, "hello", "1.0", ext=".tar.bz2").read_bytes()  # a real package: the conda inspector reads it at commit
    await h.release(core)
    res = await core.stage(
        "alice", "hello", "1.0", "noarch/hello-1.0-0.tar.bz2", distribution_type="conda", sha256=h.sha(DATA),
        attrs_json=json.dumps({"subdir": "noarch", "build_number": 0}), dependencies_json='{"depends": []}', labels=[],
        description="d", form_post_url="http://gw/api/upload-form",
    )
    assert res.post_url == "http://gw/api/upload-form"
    form = dict(res.form_data)
    assert [k for k, _ in res.form_data] == ["key", "success_action_status"] and form["success_action_status"] == "201"
    assert form["key"].startswith("uploads/") and len(form["key"]) > 40
    grant = await core.grant_form_upload(form["key"])
    assert grant.blob_key == form["key"] and grant.max_size == core.settings.max_upload_bytes
    await core.blobs.put_bytes(grant.blob_key, DATA)

    view = await core.commit("alice", "hello", "1.0", "noarch/hello-1.0-0.tar.bz2", res.dist_id)
    f = view.file
    assert (f.size, f.sha256, f.md5) == (len(DATA), h.sha(DATA), hashlib.md5(DATA).hexdigest())
    assert f.blake2_256 == hashlib.blake2b(DATA, digest_size=32).hexdigest()
    assert f.type == "conda" and f.subdir == "noarch" and f.labels == ("main",) and f.description == "d"
    attrs = json.loads(f.attrs_json)  # what the package says, not what the client claimed
    assert (attrs["name"], attrs["version"], attrs["build"], attrs["subdir"], attrs["noarch"]) == ("hello", "1.0", "0", "noarch", "generic")
    assert (attrs["md5"], attrs["sha256"], attrs["size"]) == (f.md5, f.sha256, f.size)
    assert attrs["about"]["summary"] == "hello test package"
    assert f.blob_key == content_key(f.sha256)
    assert await core.blobs.read_bytes(f.blob_key) == DATA
    assert await blob_keys(core, "uploads/") == []  # the upload blob is gone
    with pytest.raises(NotFound):  # a committed stage no longer accepts uploads
        await core.grant_form_upload(form["key"])

    pkg = await core.get_package("alice", "hello")
    assert pkg.package.package_types == ("conda",) and pkg.versions == ["1.0"] and [x.basename for x in pkg.files] == [f.basename]
    assert (await core.get_release("alice", "hello", "1.0")).files == [f]
    evs = await events(core)
    assert [e.type for e in evs] == ["file.committed"]
    assert evs[0].owner == "alice" and evs[0].file_committed.file.sha256 == f.sha256 and evs[0].file_committed.file.package_public
    assert (await core.open_download("alice", "hello", "1.0", f.basename, ReadAccess(), count=True)).file.download_count == 1
    assert (await core.get_file("alice", "hello", "1.0", f.basename)).file.download_count == 1


async def test_labels_are_kept(core, h):
    await h.release(core)
    v = await h.upload(core, "alice", "hello", "1.0", "a.txt", DATA, labels=["dev", "rc/1"])
    assert v.file.labels == ("dev", "rc/1")


async def test_checksum_mismatch_records_nothing(core, h):
    await h.release(core)
    res = await core.stage("alice", "hello", "1.0", "a.txt", distribution_type="file", sha256=h.sha(b"other"), form_post_url="http://gw/u")
    await core.blobs.put_bytes(dict(res.form_data)["key"], DATA)
    with pytest.raises(Invalid, match="checksum mismatch"):
        await core.commit("alice", "hello", "1.0", "a.txt", res.dist_id)
    assert await blob_keys(core) == []
    assert await core.store.get_file("alice", "hello", "1.0", "a.txt") is None
    assert await events(core) == []


async def test_commit_without_upload(core, h):
    await h.release(core)
    res = await core.stage("alice", "hello", "1.0", "a.txt", distribution_type="file", sha256=h.sha(DATA), form_post_url="http://gw/u")
    with pytest.raises(Invalid, match="no file was uploaded for this stage"):
        await core.commit("alice", "hello", "1.0", "a.txt", res.dist_id)
    with pytest.raises(NotFound, match="no staged upload"):
        await core.commit("alice", "hello", "1.0", "other.txt", res.dist_id)
    with pytest.raises(NotFound, match="no staged upload"):
        await core.commit("alice", "hello", "1.0", "a.txt", "bogus")


async def test_duplicate_basename_conflicts_and_identical_retry_succeeds(core, h):
    await h.release(core)
    first = await h.upload(core, "alice", "hello", "1.0", "a.txt", DATA)
    with pytest.raises(Conflict, match="file a.txt already exists for package hello version 1.0"):
        await core.stage("alice", "hello", "1.0", "a.txt", distribution_type="file", sha256=h.sha(b"different"), form_post_url="http://gw/u")
    again = await h.upload(core, "alice", "hello", "1.0", "a.txt", DATA)
    assert again.file == first.file
    assert [e.type for e in await events(core)] == ["file.committed"]  # announced once
    assert await blob_keys(core) == [content_key(h.sha(DATA))]


async def test_shared_content_blob_deleted_with_last_reference(core, h):
    await h.release(core)
    a = await h.upload(core, "alice", "hello", "1.0", "a.txt", DATA)
    await h.upload(core, "alice", "hello", "1.0", "b.txt", DATA)
    await core.delete_file("alice", "hello", "1.0", "a.txt")
    assert await core.blobs.exists(a.file.blob_key)
    await core.delete_file("alice", "hello", "1.0", "b.txt")
    assert not await core.blobs.exists(a.file.blob_key)
    with pytest.raises(NotFound, match="Distribution not found"):
        await core.get_file("alice", "hello", "1.0", "a.txt")
    assert [e.type for e in await events(core)] == ["file.committed", "file.committed", "file.removed", "file.removed"]


async def test_delete_release_and_package_cascade(core, h):
    await h.release(core, version="1.0")
    await h.release(core, version="2.0")
    await h.upload(core, "alice", "hello", "1.0", "a.txt", b"a")
    await h.upload(core, "alice", "hello", "1.0", "b.txt", b"b")
    await h.upload(core, "alice", "hello", "2.0", "c.txt", b"c")
    assert await core.delete_release("alice", "hello", "1.0") == 2
    with pytest.raises(NotFound, match="Release not found"):
        await core.get_release("alice", "hello", "1.0")
    assert not await core.blobs.exists(content_key(h.sha(b"a")))
    assert await core.delete_package("alice", "hello") == 1
    with pytest.raises(NotFound, match="Package not found"):
        await core.get_package("alice", "hello")
    assert await blob_keys(core) == []
    evs = await events(core)
    assert [e.type for e in evs] == ["file.committed"] * 3 + ["file.removed"] * 2 + ["package.removed"]
    assert sorted(e.file_removed.file.basename for e in evs[3:5]) == ["a.txt", "b.txt"]
    assert evs[5].package_removed.package == "hello" and [f.basename for f in evs[5].package_removed.files] == ["c.txt"]


async def test_package_operations(core):
    await core.create_package("alice", "hello", public=False, public_attrs_json=json.dumps(
        {"summary": "S", "license": {"name": "MIT"}, "package_types": ["conda"]}))
    with pytest.raises(Conflict):
        await core.create_package("alice", "hello")
    d = await core.get_package("alice", "hello")
    assert (d.package.summary, d.package.license, d.package.public, d.package.package_types) == ("S", "MIT", False, ("conda",))
    d = await core.update_package("alice", "hello", '{"summary": "T", "home": "h"}')
    assert d.package.summary == "T" and d.package.public_attrs["home"] == "h" and d.package.public_attrs["license"] == {"name": "MIT"}
    assert [p.package.name for p in await core.list_packages("alice")] == ["hello"]
    with pytest.raises(NotFound, match="Package not found"):
        await core.get_package("alice", "nope")
    with pytest.raises(NotFound, match="Package not found"):
        await core.create_release("alice", "nope", "1.0")
    with pytest.raises(Invalid, match="public_attrs"):
        await core.update_package("alice", "hello", "[1]")
    rel = await core.create_release("alice", "hello", "1.0", '{"description": "x"}')
    assert rel.release.attrs == {"description": "x"}
    rel = await core.update_release("alice", "hello", "1.0", '{"summary": "y"}')
    assert rel.release.attrs == {"description": "x", "summary": "y"}


@pytest.mark.parametrize(
    "args,exc,fragment",
    [
        (("alice", "hello", "1.0", "../x"), Invalid, "basename"),
        (("alice", "hello", "1.0", "/abs"), Invalid, "basename"),
        (("alice", "he/llo", "1.0", "a"), Invalid, "package name"),
        (("alice", "hello", "1/0", "a"), Invalid, "version"),
        (("alice", "hello", "1.0", "a\x00b"), Invalid, "control"),
        (("alice", "nope", "1.0", "a"), NotFound, "Package not found"),
        (("alice", "hello", "9.9", "a"), NotFound, "Release not found"),
    ],
)
async def test_stage_refuses_bad_refs(core, h, args, exc, fragment):
    await h.release(core)
    with pytest.raises(exc, match=fragment):
        await core.stage(*args, distribution_type="file", sha256=h.sha(DATA), form_post_url="http://gw/u")
    assert await core.store.expired_stages(2**62) == []  # nothing staged


async def test_a_stage_without_sha256_gets_it_computed_at_commit(core, h):
    """anaconda-client 1.2.2 stages without a sha256 (only Content-MD5 goes with the form)."""
    await h.release(core)
    res = await core.stage("alice", "hello", "1.0", "a.txt", distribution_type="file", sha256="", form_post_url="http://gw/u")
    await core.blobs.put_bytes(dict(res.form_data)["key"], DATA)
    view = await core.commit("alice", "hello", "1.0", "a.txt", res.dist_id)
    assert view.file.sha256 == h.sha(DATA) and view.file.md5 == hashlib.md5(DATA).hexdigest()
    assert await blob_keys(core, "files/") == [content_key(h.sha(DATA))]
    [ev] = await events(core)
    assert ev.file_committed.file.sha256 == h.sha(DATA)
    # a retried commit of that stage answers the file again; a new stage for the name conflicts
    assert (await core.commit("alice", "hello", "1.0", "a.txt", res.dist_id)).file.sha256 == h.sha(DATA)
    with pytest.raises(Conflict):
        await core.stage("alice", "hello", "1.0", "a.txt", distribution_type="file", sha256="", form_post_url="http://gw/u")


@pytest.mark.parametrize(
    "kw,fragment",
    [
        ({"sha256": "abc"}, "sha256"),
        ({"sha256": "g" * 64}, "sha256"),
        ({"labels": ["1bad"]}, "label"),
        ({"distribution_type": "exe"}, "distribution type"),
        ({"attrs_json": "[]"}, "attrs"),
        ({"attrs_json": "{bad"}, "attrs"),
        ({"distribution_type": "conda", "attrs_json": '{"subdir": "../x"}'}, "subdir"),
    ],
)
async def test_stage_refuses_bad_input(core, h, kw, fragment):
    await h.release(core)
    args = {"distribution_type": "file", "sha256": h.sha(DATA), "form_post_url": "http://gw/u", **kw}
    with pytest.raises(Invalid, match=fragment):
        await core.stage("alice", "hello", "1.0", "a.txt", **args)


async def test_expired_stages_and_orphan_blobs_are_cleaned(core, h, settings):
    await h.release(core)
    settings.stage_ttl_s = 0
    res = await core.stage("alice", "hello", "1.0", "a.txt", distribution_type="file", sha256=h.sha(DATA), form_post_url="http://gw/u")
    key = dict(res.form_data)["key"]
    with pytest.raises(NotFound):
        await core.grant_form_upload(key)
    await core.blobs.put_bytes(key, DATA)
    await core.blobs.put_bytes("uploads/orphan", DATA)
    with pytest.raises(NotFound, match="expired"):
        await core.commit("alice", "hello", "1.0", "a.txt", res.dist_id)
    assert await core.cleanup_stages() == 2
    assert await blob_keys(core) == []
    assert await core.store.get_stage(res.dist_id) is None


async def test_large_file_streams_through_commit(core, h):
    await h.release(core)
    data = bytes(range(256)) * (12 * 4096 + 7)  # ~12.6 MB, several chunks
    v = await h.upload(core, "alice", "hello", "1.0", "big.bin", data)
    assert v.file.size == len(data) and v.file.sha256 == h.sha(data)


async def test_commit_wakes_the_relay(core, h, bus, recorder):
    relay = OutboxRelay(core.store, bus, poll_s=30)
    core.on_commit = relay.wake
    await relay.start()
    try:
        await h.release(core)
        await h.upload(core, "alice", "hello", "1.0", "a.txt", DATA)
        for _ in range(200):
            if recorder.events:
                break
            await asyncio.sleep(0.01)
        assert recorder.types() == ["file.committed"]
    finally:
        await relay.stop()
