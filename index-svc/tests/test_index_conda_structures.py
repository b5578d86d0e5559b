"""The incremental structures behind the conda publisher (SortedPieces, SubdirIndex,
LabelChannelData, OwnerChannels): after any sequence of changes they give the bytes of the
documents built from scratch, and those are `dumps(document)` of the plain definition."""

from __future__ import annotations

import json
import random
from dataclasses import replace

from pkgcloud_index.conda.builder import ChannelIndexBuilder
from pkgcloud_index.conda.channeldata import LabelChannelData
from pkgcloud_index.conda.entries import FileEntry, dumps, version_key
from pkgcloud_index.conda.owner_channels import OwnerChannels, conda_file
from pkgcloud_index.conda.records import parse_attrs, record, run_exports
from pkgcloud_index.conda.sorted_pieces import SortedPieces
from pkgcloud_index.conda.subdir_index import SubdirIndex
from pkgcloud_index.store import IndexedFile, RemoveFile, RemovePackage, SetPackagePrivacy, UpsertFile


# --- the plain definition of the documents ---------------------------------------------------
def reference_subdir(subdir, files):
    """repodata.json, current_repodata.json and run_exports.json as dicts dumped whole."""
    files = sorted(files, key=lambda f: f.fn)
    recs = {f.fn: record(f, parse_attrs(f)) for f in files}

    def section(fns, ext):
        return {fn: recs[fn] for fn in fns if fn.endswith(ext)}

    newest = {}
    for f in files:
        rec = recs[f.fn]
        newest[rec["name"]] = max(newest.get(rec["name"], version_key(rec["version"])), version_key(rec["version"]))
    current = [f.fn for f in files if version_key(recs[f.fn]["version"]) == newest[recs[f.fn]["name"]]]
    fns = [f.fn for f in files]
    rx = {f.fn: {"run_exports": run_exports(parse_attrs(f))} for f in files}
    return {
        f"{subdir}/repodata.json": dumps({"info": {"subdir": subdir}, "packages": section(fns, ".tar.bz2"),
                                          "packages.conda": section(fns, ".conda"), "removed": [], "repodata_version": 1}).encode(),
        f"{subdir}/current_repodata.json": dumps({"info": {"subdir": subdir}, "packages": section(current, ".tar.bz2"),
                                                  "packages.conda": section(current, ".conda"), "removed": [],
                                                  "repodata_version": 1}).encode(),
        f"{subdir}/run_exports.json": dumps({"info": {"subdir": subdir, "version": 1},
                                             "packages": {fn: v for fn, v in rx.items() if fn.endswith(".tar.bz2")},
                                             "packages.conda": {fn: v for fn, v in rx.items() if fn.endswith(".conda")}}).encode(),
    }


def reference_channeldata(files_by_subdir):
    """channeldata.json: per name, over its files in subdir then file order, run_exports per
    version (a later non-empty one wins), the newest timestamp (seconds), and version and
    about of the highest (version, build number), the first of equals winning."""
    packages, best = {}, {}
    for subdir in sorted(s for s, files in files_by_subdir.items() if files):
        for f in sorted(files_by_subdir[subdir], key=lambda f: f.fn):
            e = FileEntry(f)
            p = packages.setdefault(e.name, {"subdirs": [], "run_exports": {}, "timestamp": 0})
            if subdir not in p["subdirs"]:
                p["subdirs"].append(subdir)
            if e.rx:
                p["run_exports"][e.version] = e.rx
            p["timestamp"] = max(p["timestamp"], e.ts_s)
            if e.name not in best or e.order > best[e.name].order:
                best[e.name] = e
    for name, p in packages.items():
        p["version"] = best[name].version
        p.update(best[name].about)
    return dumps({"channeldata_version": 1, "packages": packages,
                  "subdirs": sorted(s for s, files in files_by_subdir.items() if files)}).encode()


def _pool(make):
    """Files with the awkward cases: versions ordering differently as text, equal versions
    across builds and subdirs with different run_exports, .tar.bz2 beside .conda, non-ASCII."""
    out = []
    for i, (name, version) in enumerate([("numpy", "1.9.0"), ("numpy", "1.10.0"), ("numpy", "1.10.0"), ("numpy", "2.0.0rc1"),
                                         ("scipy", "1.0"), ("scipy", "1.0.post1"), ("zlib", "1.2.13"), ("zlib", "1.3"),
                                         ("pyyaml", "6.0"), ("ünïcode", "0.1")]):
        for subdir in ("linux-64", "noarch"):
            out.append(make(name, version, subdir=subdir, build=f"h{i}_{subdir[:1]}", build_number=i % 3, ext=(".conda", ".tar.bz2")[i % 2],
                            run_exports={"weak": [f"{name} >={version}"]} if i % 3 == 0 else ({} if i % 3 == 1 else None),
                            timestamp=1_600_000_000_000 + 7919 * i, summary=f"{name} ✓ {i}", upload=i))
    return out


# --- SortedPieces ------------------------------------------------------------------------------
def test_sorted_pieces_follow_any_sequence_of_changes():
    rnd = random.Random(3)
    pieces, model = SortedPieces[bytes](), {}
    for step in range(3000):
        # runs of single changes (bisection) and bursts (one sort)
        for _ in range(1 if step % 50 else 200):
            key = rnd.randrange(500)
            if rnd.random() < 0.4:
                pieces.discard(key)
                model.pop(key, None)
            else:
                pieces.set(key, str(step).encode())
                model[key] = str(step).encode()
        if step % 7 == 0:
            assert pieces.keys() == sorted(model) and pieces.values() == [model[k] for k in sorted(model)]
            assert len(pieces) == len(model)


# --- SubdirIndex -------------------------------------------------------------------------------
def test_subdir_documents_are_the_plain_definition(synthetic_conda_file):
    files = [f for f in _pool(synthetic_conda_file) if f.subdir == "linux-64"]
    docs = ChannelIndexBuilder().subdir_documents("linux-64", files)
    for path, body in reference_subdir("linux-64", files).items():
        assert docs[path] == body, path


def test_subdir_index_after_changes_equals_one_built_from_scratch(synthetic_conda_file):
    pool = [f for f in _pool(synthetic_conda_file) if f.subdir == "linux-64"]
    # replacements of the same file (--force): other bytes, other record
    pool += [replace(f, sha256="ab" * 32, upload_time_ms=f.upload_time_ms + 1) for f in pool[:4]]
    rnd = random.Random(11)
    index, held = SubdirIndex("linux-64"), {}
    for step in range(150):
        f = rnd.choice(pool)
        key = FileEntry(f).key
        if rnd.random() < 0.35:
            index.remove(key)
            held.pop(key, None)
        else:
            index.add(FileEntry(f))
            held[key] = f
        if step % 5 == 0:
            ours = index.documents().as_dict()
            assert ours == ChannelIndexBuilder().subdir_documents("linux-64", held.values()), step
            for path, body in reference_subdir("linux-64", held.values()).items():
                assert ours[path] == body, (step, path)


def test_adding_the_same_file_again_changes_nothing(synthetic_conda_file):
    f = synthetic_conda_file("numpy", "1.0")
    index = SubdirIndex("linux-64")
    assert index.add(FileEntry(f))
    generation = index.generation
    assert not index.add(FileEntry(f)) and index.generation == generation
    assert index.add(FileEntry(replace(f, sha256="cd" * 32))) and index.generation > generation


# --- channeldata -------------------------------------------------------------------------------
def test_channeldata_is_the_plain_definition(synthetic_conda_file):
    pool = _pool(synthetic_conda_file)
    by_subdir = {s: [f for f in pool if f.subdir == s] for s in ("linux-64", "noarch")}
    assert ChannelIndexBuilder().channeldata(by_subdir) == reference_channeldata(by_subdir)
    assert json.loads(reference_channeldata(by_subdir))["packages"]["numpy"]["version"] == "2.0.0rc1"


def test_channeldata_fragments_follow_changes(synthetic_conda_file):
    pool = _pool(synthetic_conda_file)
    rnd = random.Random(5)
    indexes = {"linux-64": SubdirIndex("linux-64"), "noarch": SubdirIndex("noarch")}
    cd, held = LabelChannelData(), {"linux-64": {}, "noarch": {}}
    for step in range(120):
        f = rnd.choice(pool)
        e = FileEntry(f)
        if rnd.random() < 0.4:
            if indexes[f.subdir].remove(e.key) is not None:
                cd.touch(e.name)
            held[f.subdir].pop(e.key, None)
        else:
            if indexes[f.subdir].add(e):
                cd.touch(e.name)
            held[f.subdir][e.key] = f
        if step % 4 == 0:
            assert cd.document(indexes) == reference_channeldata({s: list(h.values()) for s, h in held.items()}), step


# --- OwnerChannels -----------------------------------------------------------------------------
def _indexed(f) -> IndexedFile:
    return IndexedFile(owner="alice", package=f.package, version=f.version, basename=f.basename, type="conda", subdir=f.subdir,
                       labels=f.labels, sha256=f.sha256, size=f.size, public=f.public, attrs_json=f.attrs_json,
                       upload_time_ms=f.upload_time_ms)


def _all_documents(channels: OwnerChannels) -> dict:
    out = {}
    for view in ("public", "private"):
        for label, subdir in channels.placements(view):
            out[(view, label, subdir)] = channels.index(view, label, subdir).documents().as_dict()
        for label in {label for label, _ in channels.placements(view)}:
            out[(view, label)] = channels.channeldata(view, label)
    return out


def test_owner_channels_after_changes_equal_ones_loaded_from_scratch(synthetic_conda_file):
    pool = _pool(synthetic_conda_file)
    rnd = random.Random(8)
    channels, registry = OwnerChannels(), {}
    for step in range(200):
        f = rnd.choice(pool)
        key = (f.package, f.version, f.basename)
        roll = rnd.random()
        if roll < 0.15 and key in registry:
            change = RemoveFile("alice", *key)
            del registry[key]
        elif roll < 0.22:
            change = RemovePackage("alice", f.package)
            registry = {k: v for k, v in registry.items() if k[0] != f.package}
        elif roll < 0.35:
            public = rnd.random() < 0.5
            change = SetPackagePrivacy("alice", f.package, public)
            registry = {k: replace(v, public=public) if k[0] == f.package else v for k, v in registry.items()}
        else:
            labels = tuple(rnd.sample(["main", "dev", "beta"], rnd.randint(1, 2)))
            g = replace(f, labels=labels, public=rnd.random() < 0.7)
            if rnd.random() < 0.2:
                g = replace(g, sha256=f"{step:064x}", upload_time_ms=2_000_000_000_000 + step)  # --force
            change = UpsertFile(_indexed(g))
            registry[key] = conda_file(_indexed(g))
        touched = channels.apply([change])
        for view, label, subdir in touched:
            assert channels.index(view, label, subdir) is not None
        if step % 10 == 0:
            documents = _all_documents(channels)
            assert documents == _all_documents(OwnerChannels(registry.values())), step
            for view, label, subdir in [k for k in documents if len(k) == 3]:  # every subdir of each view: exactly its files
                listed = json.loads(documents[(view, label, subdir)][f"{subdir}/repodata.json"])
                expected = {f.fn for f in registry.values() if f.subdir == subdir and label in f.labels and (f.public or view == "private")}
                assert set(listed["packages"]) | set(listed["packages.conda"]) == expected, (step, view, label, subdir)


def test_a_change_touches_only_its_placements(synthetic_conda_file):
    a = synthetic_conda_file("numpy", "1.0", labels=("main",))
    b = synthetic_conda_file("scipy", "1.0", subdir="noarch", labels=("main", "dev"))
    channels = OwnerChannels([a, b])
    assert channels.apply([UpsertFile(_indexed(replace(a, sha256="ef" * 32)))]) == {("public", "main", "linux-64"),
                                                                                    ("private", "main", "linux-64")}
    assert channels.apply([UpsertFile(_indexed(replace(b, labels=("dev",))))]) == {("public", "main", "noarch"),
                                                                                   ("private", "main", "noarch")}
    assert channels.apply([SetPackagePrivacy("alice", "scipy", False)]) == {("public", "dev", "noarch")}
    assert channels.apply([UpsertFile(_indexed(replace(b, labels=("dev",), public=False)))]) == set()  # nothing new
    assert channels.views_agree("main") and not channels.views_agree("dev")


def test_a_replacement_naming_another_package_moves_its_channeldata(synthetic_conda_file):
    a = synthetic_conda_file("numpy", "1.0")
    renamed = json.loads(a.attrs_json) | {"name": "numpy-base"}
    channels = OwnerChannels([a])
    assert set(json.loads(channels.channeldata("public", "main"))["packages"]) == {"numpy"}
    channels.apply([UpsertFile(_indexed(replace(a, attrs_json=json.dumps(renamed, sort_keys=True))))])
    assert set(json.loads(channels.channeldata("public", "main"))["packages"]) == {"numpy-base"}


def test_a_view_reuses_the_shards_the_other_view_built(synthetic_conda_file, monkeypatch):
    from pkgcloud_index.conda import subdir_index

    files = [synthetic_conda_file(f"pkg{i % 5}", f"1.{i}", upload=i) for i in range(30)]
    channels = OwnerChannels(files)
    public = channels.index("public", "main", "linux-64").documents().as_dict()
    built, real_shard = [], subdir_index._shard
    monkeypatch.setattr(subdir_index, "_shard", lambda items: built.append(items[0].name) or real_shard(items))
    secret = synthetic_conda_file("secret", "1.0", public=False, upload=99)
    channels.apply([UpsertFile(_indexed(secret))])
    private = channels.index("private", "main", "linux-64").documents().as_dict()
    assert built == ["secret"]  # the five public names' shards come from the public view
    assert {p: v for p, v in private.items() if "/shards/" in p}.items() >= {p: v for p, v in public.items() if "/shards/" in p}.items()
    assert private == ChannelIndexBuilder().subdir_documents("linux-64", files + [secret])
