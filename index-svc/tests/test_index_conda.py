"""The conda channel documents: records equal py-rattler's own indexer's, the incremental path
and a rebuild give the same bytes, views and labels separate what they must."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from dataclasses import replace

import msgpack
import pytest
import zstandard
from e2e_harness.conda_packages import build
from pkgcloud_index.conda.builder import ChannelIndexBuilder
from pkgcloud_index.conda.publisher import CondaIndexPublisher
from pkgcloud_index.conda.records import CondaFile
from pkgcloud_index.store import AppliedEvent, IndexedFile, RemoveFile, UpsertFile
from pkgcloud_index.store.sqlite import SqliteIndexStore
from pkgcloud_registry.inspectors.conda import build_attrs, read_metadata, split_basename
from pkgcloud_servicekit import published
from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore


def _attrs(path, subdir):
    """What the registry's conda inspector records for this file."""
    fn = path.name
    _, stem, ext = split_basename(f"{subdir}/{fn}")
    with open(path, "rb") as f:
        attrs = build_attrs(subdir, stem, read_metadata(fn, ext, f))
    data = path.read_bytes()
    attrs.update(md5=hashlib.md5(data).hexdigest(), sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    return json.dumps(attrs, sort_keys=True)


@pytest.fixture(scope="module")
def channel(tmp_path_factory):
    out = tmp_path_factory.mktemp("chan")
    paths = [
        (build(out, "mylib", "1.0.0", build_string="h1_0", subdir="linux-64", ext=".tar.bz2", run_exports={"weak": ["mylib >=1.0.0,<2.0a0"]}), "linux-64"),
        (build(out, "mylib", "1.1.0", build_string="h1_0", subdir="linux-64", ext=".conda", run_exports={"weak": ["mylib >=1.1.0,<2.0a0"]}), "linux-64"),
        (build(out, "myapp", "2.0.0", build_string="h7_1", build_number=1, subdir="linux-64", depends=("mylib >=1.0", "myutil"),
               constrains=("mylib <1.2",)), "linux-64"),
        (build(out, "myutil", "0.3.0", subdir="noarch"), "noarch"),
    ]
    shutil.rmtree(out / ".build", ignore_errors=True)
    return out, paths


def _files(paths, **kw):
    out = []
    for i, (p, subdir) in enumerate(paths):
        stem = p.name.removesuffix(".conda").removesuffix(".tar.bz2")
        name, version, _ = stem.rsplit("-", 2)
        data = p.read_bytes()
        out.append(CondaFile(package=name, version=version, basename=f"{subdir}/{p.name}", subdir=subdir, labels=kw.get("labels", ("main",)),
                             public=kw.get("public", True), sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                             upload_time_ms=1_700_000_000_000 + i, attrs_json=_attrs(p, subdir)))
    return out


def test_records_equal_rattler_index_fs(channel):
    from rattler.index import index_fs

    out, paths = channel
    asyncio.run(index_fs(str(out)))
    files = _files(paths)
    builder = ChannelIndexBuilder()
    for subdir in ("linux-64", "noarch"):
        ours = json.loads(builder.subdir_documents(subdir, [f for f in files if f.subdir == subdir])[f"{subdir}/repodata.json"])
        theirs = json.loads((out / subdir / "repodata.json").read_text())
        for section in ("packages", "packages.conda"):
            assert set(ours[section]) == set(theirs[section])
            for fn, rec in theirs[section].items():
                mine = dict(ours[section][fn])
                # indexed_timestamp is when each indexer first saw the file: ours is the upload time
                assert mine.pop("indexed_timestamp") > 0 and rec.pop("indexed_timestamp") > 0
                assert mine == rec, fn


def test_documents_are_well_formed(channel):
    _, paths = channel
    files = [f for f in _files(paths) if f.subdir == "linux-64"]
    docs = ChannelIndexBuilder().subdir_documents("linux-64", files)
    repodata = docs["linux-64/repodata.json"]
    assert zstandard.ZstdDecompressor().decompress(docs["linux-64/repodata.json.zst"]) == repodata
    index = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(docs["linux-64/repodata_shards.msgpack.zst"]))
    assert index["info"]["shards_base_url"] == "./shards/" and set(index["shards"]) == {"mylib", "myapp"}
    for _name, digest in index["shards"].items():
        shard = docs[f"linux-64/shards/{digest.hex()}.msgpack.zst"]
        assert hashlib.sha256(shard).digest() == digest  # content-addressed
    current = json.loads(docs["linux-64/current_repodata.json"])
    assert set(current["packages.conda"]) == {"mylib-1.1.0-h1_0.conda", "myapp-2.0.0-h7_1.conda"} and current["packages"] == {}
    rx = json.loads(docs["linux-64/run_exports.json"])
    assert rx["packages"]["mylib-1.0.0-h1_0.tar.bz2"]["run_exports"] == {"weak": ["mylib >=1.0.0,<2.0a0"]}
    assert rx["packages.conda"]["myapp-2.0.0-h7_1.conda"]["run_exports"] == {}
    cd = json.loads(ChannelIndexBuilder().channeldata({"linux-64": files}))
    assert cd["packages"]["mylib"]["version"] == "1.1.0" and cd["packages"]["mylib"]["summary"] == "mylib test package"


async def _snapshot(blobs, owner):
    """Every published document's body; each stored with the ETag of its sha256 (what the
    gateway serves without hashing)."""
    keys = sorted([k async for k in blobs.list(published.conda_owner_prefix(owner)) if not k.endswith(("state.json", "manifest.json"))])
    out = {}
    for k in keys:
        etag, body = published.parse_stored_document(await blobs.read_bytes(k))
        assert etag == published.etag_of_digest(hashlib.sha256(body).hexdigest()), k
        out[k] = body
    return out


def _indexed(f: CondaFile, owner="alice") -> IndexedFile:
    return IndexedFile(owner=owner, package=f.package, version=f.version, basename=f.basename, type="conda", subdir=f.subdir,
                       labels=f.labels, sha256=f.sha256, size=f.size, public=f.public, attrs_json=f.attrs_json,
                       upload_time_ms=f.upload_time_ms)


async def test_incremental_equals_rebuild_and_views_labels(channel, tmp_path):
    _, paths = channel
    store = SqliteIndexStore(tmp_path / "index.db")
    await store.open()
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    pub = CondaIndexPublisher(store, blobs)
    files = _files(paths)
    files[3] = CondaFile(**{**files[3].__dict__, "labels": ("dev",)})          # myutil only in dev
    files[2] = CondaFile(**{**files[2].__dict__, "public": False})             # myapp private
    for i, f in enumerate(files):
        change = [UpsertFile(_indexed(f))]
        await store.apply_event(AppliedEvent(f"e{i}", "file.committed", "alice", 1), change)
        await pub.publish("alice", change)
    # a removal, applied incrementally
    gone = files.pop(0)
    change = [RemoveFile("alice", gone.package, gone.version, gone.basename)]
    await store.apply_event(AppliedEvent("e-rm", "file.removed", "alice", 1), change)
    await pub.publish("alice", change)

    incremental = await _snapshot(blobs, "alice")
    pub_main = json.loads(incremental[published.conda_document_key("alice", "public", "main", "linux-64/repodata.json")])
    priv_main = json.loads(incremental[published.conda_document_key("alice", "private", "main", "linux-64/repodata.json")])
    assert set(pub_main["packages.conda"]) == {"mylib-1.1.0-h1_0.conda"} and pub_main["packages"] == {}
    assert set(priv_main["packages.conda"]) == {"mylib-1.1.0-h1_0.conda", "myapp-2.0.0-h7_1.conda"}
    assert json.loads(incremental[published.conda_document_key("alice", "public", "main", "noarch/repodata.json")])["packages.conda"] == {}
    dev = json.loads(incremental[published.conda_document_key("alice", "public", "dev", "noarch/repodata.json")])
    assert set(dev["packages.conda"]) == {"myutil-0.3.0-0.conda"}

    # a rebuild from the same records (as the registry holds them) writes the same bytes
    for k in list(incremental):
        await blobs.delete(k)
    await CondaIndexPublisher(store, blobs).rebuild_from("alice", files)
    rebuilt = await _snapshot(blobs, "alice")
    assert not {k for k in rebuilt if incremental.get(k) != rebuilt[k]}
    # only shards of superseded content remain beside them (content-addressed, collected later)
    assert all("/shards/" in k for k in set(incremental) - set(rebuilt))
    await store.close()


async def test_start_republishes_what_a_crash_left(channel, tmp_path):
    _, paths = channel
    store = SqliteIndexStore(tmp_path / "index.db")
    await store.open()
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    f = _files(paths)[3]
    # the event was applied, then the process died before publishing it
    await store.apply_event(AppliedEvent("e1", "file.committed", "alice", 1), [UpsertFile(_indexed(f))])
    await CondaIndexPublisher(store, blobs).start()
    noarch = json.loads(published.document_body(await blobs.read_bytes(published.conda_document_key("alice", "public", "main", "noarch/repodata.json"))))
    assert set(noarch["packages.conda"]) == {"myutil-0.3.0-0.conda"}
    await store.close()


async def _shards_on_disk(blobs, owner, view, label, subdir):
    prefix = published.conda_document_key(owner, view, label, f"{subdir}/shards/")
    return {k.rsplit("/", 1)[1] async for k in blobs.list(prefix)}


async def _shards_indexed(blobs, owner, view, label, subdir):
    raw = published.document_body(await blobs.read_bytes(published.conda_document_key(owner, view, label, f"{subdir}/repodata_shards.msgpack.zst")))
    index = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(raw))
    return {f"{bytes(h).hex()}.msgpack.zst" for h in index["shards"].values()}


async def test_superseded_shards_are_collected_one_generation_late(channel, tmp_path):
    _, paths = channel
    store = SqliteIndexStore(tmp_path / "index.db")
    await store.open()
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    pub = CondaIndexPublisher(store, blobs)
    mylib_old, mylib_new, myapp = _files(paths)[:3]
    generations = []

    async def step(event_id, change):
        await store.apply_event(AppliedEvent(event_id, "file.committed", "alice", 1), change)
        await pub.publish("alice", change)
        indexed = await _shards_indexed(blobs, "alice", "public", "main", "linux-64")
        on_disk = await _shards_on_disk(blobs, "alice", "public", "main", "linux-64")
        assert indexed <= on_disk  # never an index naming a missing shard
        generations.append(indexed)
        return on_disk

    await step("e1", [UpsertFile(_indexed(mylib_old))])
    await step("e2", [UpsertFile(_indexed(myapp))])           # mylib's shard unchanged, myapp's added
    on_disk = await step("e3", [UpsertFile(_indexed(mylib_new))])  # mylib's shard replaced
    # the generation just replaced is kept for readers in flight
    assert generations[1] <= on_disk
    on_disk = await step("e4", [RemoveFile("alice", myapp.package, myapp.version, myapp.basename)])
    assert on_disk == generations[2] | generations[3]
    # and a shard whose content comes back after being collected is written again
    on_disk = await step("e5", [RemoveFile("alice", mylib_new.package, mylib_new.version, mylib_new.basename)])
    on_disk = await step("e6", [UpsertFile(_indexed(myapp))])
    assert generations[5] <= on_disk and on_disk == generations[4] | generations[5]
    await store.close()


async def test_rebuild_sweeps_shards_nobody_references(channel, tmp_path):
    _, paths = channel
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    files = _files(paths)
    await CondaIndexPublisher(None, blobs).rebuild_from("alice", files)  # type: ignore[arg-type]
    stray = published.conda_document_key("alice", "public", "main", "linux-64/shards/" + "ab" * 32 + ".msgpack.zst")
    await blobs.put_bytes(stray, b"left by a crash")
    await CondaIndexPublisher(None, blobs).rebuild_from("alice", files[1:])  # type: ignore[arg-type]
    assert not await blobs.exists(stray)
    for view in published.VIEWS:
        assert await _shards_on_disk(blobs, "alice", view, "main", "linux-64") >= await _shards_indexed(blobs, "alice", view, "main", "linux-64")


async def test_store_resynced_elsewhere_is_reloaded_at_the_next_event(channel, tmp_path):
    """`pkgcloud admin rebuild-index` after a BulkImportFiles (no events): the running
    publisher must not publish a channel made only of the files it heard about."""
    from pkgcloud_index.conda.rebuild import resync_store

    _, paths = channel
    store = SqliteIndexStore(tmp_path / "index.db")
    await store.open()
    blobs = FilesystemBlobStore(tmp_path / "blobs")
    pub = CondaIndexPublisher(store, blobs)
    f0, f1, f2, f3 = _files(paths)
    change = [UpsertFile(_indexed(f0))]
    await store.apply_event(AppliedEvent("e1", "file.committed", "alice", 1), change)
    await pub.publish("alice", change)
    await resync_store(store, "alice", [_indexed(f0), _indexed(f1), _indexed(f3)])  # what the registry holds
    change = [UpsertFile(_indexed(f2))]  # the next event touches the same subdir
    await store.apply_event(AppliedEvent("e2", "file.committed", "alice", 1), change)
    await pub.publish("alice", change)
    linux = json.loads(published.document_body(await blobs.read_bytes(published.conda_document_key("alice", "public", "main", "linux-64/repodata.json"))))
    assert set(linux["packages"]) | set(linux["packages.conda"]) == {f.fn for f in (f0, f1, f2)}
    # a resync also removes what the registry no longer has
    await resync_store(store, "alice", [_indexed(f1)])
    assert {f.basename for f in await store.list_files("alice")} == {f1.basename}
    await store.close()


# --- sequences of changes: the incremental path against a rebuild, step by step ------------------
async def _manifest(blobs, owner, view):
    try:
        return json.loads(await blobs.read_bytes(published.conda_manifest_key(owner, view)))
    except Exception:
        return None


async def _assert_equals_rebuild(blobs, registry, tmp_path, step):
    """A rebuild from the registry's records (into another store holding the same manifests:
    a subdir once published stays published) writes exactly the documents we hold."""
    fresh = FilesystemBlobStore(tmp_path / f"rebuild-{step}")
    for view in published.VIEWS:
        if (manifest := await _manifest(blobs, "alice", view)) is not None:
            await fresh.put_bytes(published.conda_manifest_key("alice", view), json.dumps(manifest).encode())
    await CondaIndexPublisher(None, fresh).rebuild_from("alice", list(registry.values()))  # type: ignore[arg-type]
    ours, theirs = await _snapshot(blobs, "alice"), await _snapshot(fresh, "alice")
    documents = {k for k in ours | theirs if "/shards/" not in k}
    assert {k for k in documents if ours.get(k) != theirs.get(k)} == set(), step
    # every shard a rebuild names is there, with the same bytes (ours may still hold the last generation)
    assert {k: v for k, v in theirs.items() if "/shards/" in k}.items() <= ours.items(), step
    for view in published.VIEWS:
        assert await _manifest(blobs, "alice", view) == await _manifest(fresh, "alice", view), step
    # each subdir lists exactly its files: nothing private in the public view
    for key, body in ours.items():
        if key.endswith("/repodata.json"):
            view, label, subdir = key.split("/")[3], key.split("/")[5], key.split("/")[6]
            listed = json.loads(body)
            expected = {f.fn for f in registry.values() if f.subdir == subdir and label in f.labels and (f.public or view == "private")}
            assert set(listed["packages"]) | set(listed["packages.conda"]) == expected, (step, key)


def _scripted_steps(make):
    """(what the step does, what it does it with): files upserted, or ("remove", file), ("privacy", package,
    public), ("remove-package", package)."""
    numpy = [make("numpy", v, build=f"py311h{i}_0", build_number=i, run_exports={"weak": [f"numpy >={v}"]}, upload=i)
             for i, v in enumerate(("1.9.0", "1.10.0", "1.26.4"))]
    yield "uploads to linux-64", [numpy[0]]
    yield "more of the same name", numpy[1:]
    yield "noarch in dev", [make("tzdata", "2024a", subdir="noarch", labels=("dev",), upload=10)]
    yield "a private package", [make("secret", "1.0", public=False, ext=".tar.bz2", upload=11),
                                make("secret", "1.0", subdir="osx-arm64", public=False, upload=12)]
    yield "a label added", [replace(numpy[1], labels=("main", "beta"))]
    rebuilt = json.dumps(json.loads(numpy[2].attrs_json) | {"depends": ["libblas"]}, sort_keys=True)
    yield "--force replacement", [replace(numpy[2], sha256="f" * 64, upload_time_ms=1_800_000_000_000, attrs_json=rebuilt)]
    yield "privacy: secret goes public", ("privacy", "secret", True)
    yield "privacy: numpy goes private", ("privacy", "numpy", False)
    yield "moved out of main", [replace(numpy[0], labels=("dev",), public=False)]
    yield "a removal", ("remove", numpy[1])
    yield "privacy: numpy public again", ("privacy", "numpy", True)
    yield "same version in two subdirs, other run_exports", [
        make("zlib", "1.3", subdir="linux-64", run_exports={"strong": ["zlib >=1.3"]}, upload=20),
        make("zlib", "1.3", subdir="osx-arm64", run_exports={"weak": ["zlib"]}, upload=21)]
    yield "a package removed", ("remove-package", "secret")


@pytest.fixture
async def store(tmp_path):
    store = SqliteIndexStore(tmp_path / "index.db")
    await store.open()
    yield store
    await store.close()  # also when the test failed: an open connection's thread keeps the process alive


async def test_incremental_equals_rebuild_through_sequences_of_changes(tmp_path, store, synthetic_conda_file):
    import random

    from pkgcloud_index.store import RemovePackage, SetPackagePrivacy

    blobs = FilesystemBlobStore(tmp_path / "blobs")
    pub = CondaIndexPublisher(store, blobs)
    registry: dict = {}

    async def apply(step, changes):
        await store.apply_event(AppliedEvent(f"e{step}", "test", "alice", 1), changes)
        await pub.publish("alice", changes)

    def privacy(package, public):
        for key, f in list(registry.items()):
            if f.package == package:
                registry[key] = replace(f, public=public)
        return SetPackagePrivacy("alice", package, public)

    steps = list(_scripted_steps(synthetic_conda_file))
    rnd = random.Random(2)
    pool = [synthetic_conda_file(name, f"1.{v}", subdir=s, build=f"b{b}", ext=(".conda", ".tar.bz2")[b % 2], upload=100 + v * 10 + b)
            for name in ("alpha", "beta-pkg") for v in range(3) for b in range(2) for s in ("linux-64", "noarch")]
    for i in range(40):  # and then whatever comes
        f = rnd.choice(pool)
        roll = rnd.random()
        if roll < 0.2:
            steps.append((f"random {i}", ("remove", f)))
        elif roll < 0.3:
            steps.append((f"random {i}", ("privacy", f.package, rnd.random() < 0.5)))
        else:
            steps.append((f"random {i}", [replace(f, labels=tuple(rnd.sample(["main", "dev", "beta"], rnd.randint(1, 2))),
                                                  public=rnd.random() < 0.8)]))
    for step, (what, action) in enumerate(steps):
        if isinstance(action, list):
            changes = [UpsertFile(_indexed(f)) for f in action]
            registry.update({(f.package, f.version, f.basename): f for f in action})
        elif action[0] == "remove":
            f = action[1]
            changes = [RemoveFile("alice", f.package, f.version, f.basename)]
            registry.pop((f.package, f.version, f.basename), None)
        elif action[0] == "privacy":
            changes = [privacy(action[1], action[2])]
        else:
            changes = [RemovePackage("alice", action[1])]
            registry = {k: f for k, f in registry.items() if f.package != action[1]}
        await apply(step, changes)
        if step < 20 or step % 5 == 0 or step == len(steps) - 1:
            await _assert_equals_rebuild(blobs, registry, tmp_path, f"{step}: {what}")


class _CountingBlobs(FilesystemBlobStore):
    """Remembers the keys written."""

    def __init__(self, root):
        super().__init__(root)
        self.written: list[str] = []

    async def write_bytes(self, key, data):
        self.written.append(key)
        await super().write_bytes(key, data)

    async def put_bytes(self, key, data):
        self.written.append(key)
        return await super().put_bytes(key, data)

    async def write_if_newer(self, key, data, generation):
        self.written.append(key)
        return await super().write_if_newer(key, data, generation)


async def test_an_upload_rewrites_only_what_it_changed(tmp_path, store, synthetic_conda_file):
    blobs = _CountingBlobs(tmp_path / "blobs")
    pub = CondaIndexPublisher(store, blobs)
    first = [synthetic_conda_file("numpy", "1.0"), synthetic_conda_file("tzdata", "1", subdir="noarch", labels=("main", "dev"))]
    change = [UpsertFile(_indexed(f)) for f in first]
    await store.apply_event(AppliedEvent("e1", "test", "alice", 1), change)
    await pub.publish("alice", change)
    blobs.written.clear()
    change = [UpsertFile(_indexed(synthetic_conda_file("numpy", "2.0", upload=1)))]
    await store.apply_event(AppliedEvent("e2", "test", "alice", 1), change)
    await pub.publish("alice", change)
    touched = {k.split("/label/", 1)[1].rsplit("/", 1)[0] for k in blobs.written if "/label/" in k}
    assert touched == {"main/linux-64", "main/linux-64/shards", "main"}  # linux-64's documents, the new shard, channeldata
    assert {k.split("/")[3] for k in blobs.written if "/label/" in k} == {"public", "private"}
    # the same event again (a redelivery that reached the publisher) writes no document
    blobs.written.clear()
    await pub.publish("alice", change)
    assert [k for k in blobs.written if "/label/" in k] == []


async def test_a_restarted_publisher_publishes_a_removal_and_leaves_the_rest(tmp_path, store, synthetic_conda_file):
    a, b = synthetic_conda_file("numpy", "1.0"), synthetic_conda_file("tzdata", "1", subdir="noarch")
    change = [UpsertFile(_indexed(a)), UpsertFile(_indexed(b))]
    await store.apply_event(AppliedEvent("e1", "test", "alice", 1), change)
    await CondaIndexPublisher(store, FilesystemBlobStore(tmp_path / "blobs")).publish("alice", change)
    # a new process: its first event removes a file it never held
    blobs = _CountingBlobs(tmp_path / "blobs")
    change = [RemoveFile("alice", a.package, a.version, a.basename)]
    await store.apply_event(AppliedEvent("e2", "test", "alice", 1), change)
    await CondaIndexPublisher(store, blobs).publish("alice", change)
    linux = json.loads(published.document_body(await blobs.read_bytes(published.conda_document_key("alice", "public", "main", "linux-64/repodata.json"))))
    assert linux["packages.conda"] == {}
    assert not [k for k in blobs.written if "/noarch/" in k]  # unchanged: found published already


class _FailingOnce(FilesystemBlobStore):
    """Refuses the first write of a key containing `needle`."""

    def __init__(self, root, needle):
        super().__init__(root)
        self.needle = needle

    async def write_bytes(self, key, data):
        if self.needle and self.needle in key:
            self.needle = None
            raise OSError("disk full")
        await super().write_bytes(key, data)

    async def write_if_newer(self, key, data, generation):
        if self.needle and self.needle in key:
            self.needle = None
            raise OSError("disk full")
        return await super().write_if_newer(key, data, generation)


async def test_a_failed_write_is_retried_at_the_next_publish(tmp_path, store, synthetic_conda_file):
    blobs = _FailingOnce(tmp_path / "blobs", None)
    pub = CondaIndexPublisher(store, blobs)
    a, a2, b = (synthetic_conda_file("numpy", "1.0"), synthetic_conda_file("numpy", "2.0", upload=1),
                synthetic_conda_file("tzdata", "1", subdir="noarch"))

    async def event(event_id, f):
        change = [UpsertFile(_indexed(f))]
        await store.apply_event(AppliedEvent(event_id, "test", "alice", 1), change)
        await pub.publish("alice", change)

    await event("e1", a)
    blobs.needle = "/private/label/main/linux-64/current_repodata.json"
    with pytest.raises(OSError):
        await event("e2", a2)
    await event("e3", b)  # touches another subdir; the one that failed is written too
    current = json.loads(published.document_body(await blobs.read_bytes(published.conda_document_key("alice", "private", "main", "linux-64/current_repodata.json"))))
    assert set(current["packages.conda"]) == {a2.fn}
    await _assert_equals_rebuild(blobs, {(f.package, f.version, f.basename): f for f in (a, a2, b)}, tmp_path, "after the retry")


class _HeldWrites(FilesystemBlobStore):
    """Holds every conditional write until `release` is set (a replica stalled mid-publish)."""

    def __init__(self, root):
        super().__init__(root)
        self.entered, self.release = asyncio.Event(), asyncio.Event()
        self.skipped: list[str] = []

    async def write_if_newer(self, key, data, generation):
        self.entered.set()
        await self.release.wait()
        done = await super().write_if_newer(key, data, generation)
        if not done:
            self.skipped.append(key)
        return done


async def test_a_stale_replica_never_writes_over_a_newer_publish(tmp_path, store, synthetic_conda_file):
    # Replica A applies e1 and stalls before writing; the owner moves to replica B, which
    # applies e2 (a removal) and publishes. A's writes then land: every one is skipped, the
    # documents stay B's, and A drops what it held of the owner.
    a, b = synthetic_conda_file("numpy", "1.0"), synthetic_conda_file("numpy", "2.0", upload=1)
    first = [UpsertFile(_indexed(a)), UpsertFile(_indexed(b))]
    await store.apply_event(AppliedEvent("e0", "test", "alice", 1), first)
    await CondaIndexPublisher(store, FilesystemBlobStore(tmp_path / "blobs")).publish("alice", first)
    held = _HeldWrites(tmp_path / "blobs")
    replica_a, replica_b = CondaIndexPublisher(store, held), CondaIndexPublisher(store, FilesystemBlobStore(tmp_path / "blobs"))
    change = [UpsertFile(_indexed(synthetic_conda_file("tzdata", "1", subdir="noarch")))]
    await store.apply_event(AppliedEvent("e1", "test", "alice", 1), change)
    stalled = asyncio.create_task(replica_a.publish("alice", change))
    await held.entered.wait()  # A has read the store and is writing
    removal = [RemoveFile("alice", b.package, b.version, b.basename)]
    await store.apply_event(AppliedEvent("e2", "test", "alice", 1), removal)
    await replica_b.publish("alice", removal)
    held.release.set()
    await stalled
    assert held.skipped  # A found generation 3 stored, and stopped there
    assert "alice" not in replica_a._channels
    for subdir in ("linux-64", "noarch"):
        assert await held.generation(published.conda_document_key("alice", "public", "main", f"{subdir}/repodata.json")) == 3
    tz = synthetic_conda_file("tzdata", "1", subdir="noarch")
    await _assert_equals_rebuild(held, {(f.package, f.version, f.basename): f for f in (a, tz)}, tmp_path, "after the race")
