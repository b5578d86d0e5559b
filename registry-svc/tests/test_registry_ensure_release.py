"""twine's find-or-create in one call (issue 11): RegistryStore.ensure_release over every
backend (normalized-name matching, concurrent creators of one new project), then
RegistryCore.ensure_release (the checked package, lookups, the existing file) and the RPC."""

from __future__ import annotations

import asyncio
import io
import zipfile

import pytest
from pkgcloud_protos.v1 import events_pb2, registry_pb2
from pkgcloud_registry.servicer import RegistryServicer
from pkgcloud_registry.store import PackageRecord, ReleaseRecord
from pkgcloud_registry.store.mongo import MongoRegistryStore
from pkgcloud_servicekit import audit
from pkgcloud_servicekit.audit import AuditQuery
from pkgcloud_servicekit.errors import Invalid
from pkgcloud_servicekit.events import new_event


def _pkg(name: str, owner: str = "alice") -> PackageRecord:
    return PackageRecord(owner=owner, name=name, package_types=("pypi",), created_at_ms=1, modified_at_ms=1)


def _rel(name: str, version: str = "1.0", owner: str = "alice") -> ReleaseRecord:
    return ReleaseRecord(owner=owner, package=name, version=version, created_at_ms=1)


async def _trail(store, owner: str = "alice") -> list[tuple[str, str]]:
    return sorted((e.action, e.target) for e in await store.list_audit(AuditQuery(owner, limit=500)))


def _entry(action: str, target: str):
    return audit.entry("alice", action, target)


async def _ensure(store, name: str, version: str = "1.0"):
    return await store.ensure_release(
        _pkg(name), _rel(name, version),
        package_audit=[_entry("package.create", f"alice/{name}")], release_audit=[_entry("release.create", f"alice/{name}/{version}")],
    )


# --- the store contract ----------------------------------------------------------------

async def test_store_creates_then_finds_by_normalized_name(store):
    first = await _ensure(store, "Tiny_Yank")
    assert (first.package.name, first.package_created, first.release_created) == ("Tiny_Yank", True, True)
    again = await _ensure(store, "Tiny_Yank")
    assert (again.package_created, again.release_created, again.release.version) == (False, False, "1.0")
    newer = await _ensure(store, "Tiny_Yank", "2.0")
    assert (newer.package_created, newer.release_created) == (False, True)
    assert sorted(r.version for r in await store.list_releases("alice", "Tiny_Yank")) == ["1.0", "2.0"]
    # another spelling of the project: found, and nothing written (the caller checks that name)
    for spelling in ("tiny-yank", "TINY.YANK", "tiny__yank"):
        other = await _ensure(store, spelling, "3.0")
        assert other.package.name == "Tiny_Yank" and other.release is None and not other.package_created
        assert (await store.find_project("alice", spelling)).name == "Tiny_Yank"
    assert [p.name for p in await store.list_packages("alice")] == ["Tiny_Yank"]
    assert sorted(r.version for r in await store.list_releases("alice", "Tiny_Yank")) == ["1.0", "2.0"]
    # each creation stored its entry once; finding wrote none
    assert await _trail(store) == [
        ("package.create", "alice/Tiny_Yank"), ("release.create", "alice/Tiny_Yank/1.0"), ("release.create", "alice/Tiny_Yank/2.0"),
    ]
    # other owners and other projects are apart
    assert await store.find_project("bob", "tiny-yank") is None
    assert await store.find_project("alice", "tiny-yanks") is None
    assert await store.find_project("alice", "tinyyank") is None


async def test_store_prefers_the_exact_spelling(store):
    # two spellings can exist (conda names differ where PEP 503 names do not)
    await store.create_package(_pkg("foo_bar"))
    await store.create_package(_pkg("foo-bar"))
    assert (await store.find_project("alice", "foo-bar")).name == "foo-bar"
    assert (await store.find_project("alice", "foo_bar")).name == "foo_bar"
    assert (await store.find_project("alice", "Foo.Bar")).name == "foo-bar"  # none exact: the first by name
    ensured = await _ensure(store, "foo_bar")
    assert ensured.package.name == "foo_bar" and ensured.release_created


async def test_store_concurrent_creators_of_one_project_end_on_one_package(store_factory):
    # two store instances over one database: two replicas of the registry
    a, b = await store_factory.open(), await store_factory.open()
    spellings = ["Race_Pkg", "Race_Pkg", "race-pkg", "Race_Pkg", "race-pkg", "Race_Pkg"]
    results = await asyncio.gather(*(_ensure(s, name) for s, name in zip([a, b] * 3, spellings, strict=True)))
    assert len(await a.list_packages("alice")) == 1
    winner = (await a.list_packages("alice"))[0].name
    assert sum(r.package_created for r in results) == 1
    assert {r.package.name for r in results} == {winner}
    # the winner's spelling got the release (created once); the other spelling wrote nothing
    assert [r.release is not None for r in results] == [name == winner for name in spellings]
    assert sum(r.release_created for r in results) == 1
    assert await _trail(a) == [("package.create", f"alice/{winner}"), ("release.create", f"alice/{winner}/1.0")]


async def test_mongo_lost_insert_race_uses_the_package_that_won(store_factory, monkeypatch):
    """MongoDB has no transaction around the lookup and the insert: a creator whose lookup
    came before the winner's insert loses on the unique index and must use the winner."""
    if store_factory.kind == "sqlite":
        pytest.skip("SQLite looks up and inserts in one write transaction: no lookup can be stale")
    a, b = await store_factory.open(), await store_factory.open()
    assert isinstance(b, MongoRegistryStore)
    await _ensure(a, "Race_Pkg")
    real = b._find_project_doc
    stale = {"left": 2}

    async def once_stale(owner, name):
        if stale["left"]:
            stale["left"] -= 1
            return None  # looked before the winner's insert
        return await real(owner, name)

    monkeypatch.setattr(b, "_find_project_doc", once_stale)
    same = await _ensure(b, "Race_Pkg", "2.0")  # the (owner, name) index refuses the second insert
    assert (same.package.name, same.package_created, same.release_created) == ("Race_Pkg", False, True)
    other = await _ensure(b, "race.pkg", "3.0")  # the (owner, project) index refuses another spelling
    assert (other.package.name, other.package_created, other.release) == ("Race_Pkg", False, None)
    assert [p.name for p in await a.list_packages("alice")] == ["Race_Pkg"]
    assert sorted(r.version for r in await a.list_releases("alice", "Race_Pkg")) == ["1.0", "2.0"]
    assert [e for e in await _trail(a) if e[0] == "package.create"] == [("package.create", "alice/Race_Pkg")]


async def test_store_a_removed_project_can_be_created_again(store):
    await _ensure(store, "gone")
    removed = events_pb2.PackageRemoved(package="gone")
    await store.delete_package("alice", "gone", lambda p, files: [new_event("alice", package_removed=removed)])
    again = await _ensure(store, "Gone")
    assert (again.package.name, again.package_created, again.release_created) == ("Gone", True, True)


# --- the core and the RPC ----------------------------------------------------------------

def wheel(name: str = "tiny_yank", version: str = "1.0") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{name}-{version}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        zf.writestr(f"{name}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    return buf.getvalue()


async def test_core_ensure_release(core, h):
    e = await core.ensure_release("alice", "Tiny_Yank", "1.0", summary="tiny", package_types=["pypi"])
    assert (e.package, e.checked, e.package_created, e.release_created, e.file) == ("Tiny_Yank", True, True, True, None)
    pkg = await core.get_package("alice", "Tiny_Yank")
    assert (pkg.package.summary, pkg.package.package_types, pkg.package.public, pkg.versions) == ("tiny", ("pypi",), True, ["1.0"])

    # another spelling: nothing written; the caller checks the existing name and asks again
    e = await core.ensure_release("alice", "tiny-yank", "2.0")
    assert (e.package, e.checked, e.package_created, e.release_created) == ("Tiny_Yank", False, False, False)
    assert (await core.get_package("alice", "Tiny_Yank")).versions == ["1.0"]
    e = await core.ensure_release("alice", "tiny-yank", "2.0", checked_package="Tiny_Yank")
    assert (e.package, e.checked, e.release_created) == ("Tiny_Yank", True, True)

    # lookups create nothing
    assert (await core.ensure_release("alice", "TINY.YANK", "", lookup_only=True)).package == "Tiny_Yank"
    missing = await core.ensure_release("alice", "other", "", lookup_only=True)
    assert (missing.package, missing.checked) == ("", False)
    assert [d.package.name for d in await core.list_packages("alice")] == ["Tiny_Yank"]

    # a re-upload learns of the file it would replace
    basename = "tiny_yank-1.0-py3-none-any.whl"
    data = wheel()
    await h.upload(core, "alice", "Tiny_Yank", "1.0", basename, data, distribution_type="pypi")
    e = await core.ensure_release("alice", "tiny-yank", "1.0", checked_package="Tiny_Yank", basename=basename)
    assert e.file is not None and e.file.file.sha256 == h.sha(data) and not e.release_created

    with pytest.raises(Invalid, match="not a spelling"):
        await core.ensure_release("alice", "tiny-yank", "1.0", checked_package="other")
    with pytest.raises(Invalid):  # refused before anything is created
        await core.ensure_release("alice", "fresh", " bad version")
    assert await core.store.find_project("alice", "fresh") is None


async def test_ensure_release_rpc(core):
    servicer = RegistryServicer(core)
    req = registry_pb2.EnsureReleaseRequest(owner="alice", name="My.Pkg", version="0.1", public=True, summary="s",
                                            package_types=["pypi"], release_attrs_json="{}", basename="my_pkg-0.1.tar.gz")
    first = await servicer.EnsureRelease(req, None)
    assert (first.package, first.checked, first.package_created, first.release_created, first.HasField("file")) == (
        "My.Pkg", True, True, True, False)
    second = await servicer.EnsureRelease(registry_pb2.EnsureReleaseRequest(owner="alice", name="my-pkg", version="0.1"), None)
    assert (second.package, second.checked, second.package_created) == ("My.Pkg", False, False)
