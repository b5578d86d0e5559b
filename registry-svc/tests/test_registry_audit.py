"""registry-svc's audit trail over every store backend (`core` runs on SQLite, mongomock and
real MongoDB when configured): each change is stored with its entry, a refused change stores
none, and the entries carry who acted (servicekit.audit.actor_var, as the gRPC interceptor
sets it)."""

from __future__ import annotations

import io
import zipfile

import pytest
from pkgcloud_protos.v1 import events_pb2
from pkgcloud_registry.store import PackageRecord
from pkgcloud_servicekit import audit
from pkgcloud_servicekit.audit import Actor, AuditJanitor, AuditQuery, Position
from pkgcloud_servicekit.errors import Conflict, Forbidden, NotFound
from pkgcloud_servicekit.events import new_event
from pkgcloud_servicekit.logs import request_id_var


def wheel() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")
        zf.writestr("pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    return buf.getvalue()


def act(login: str, token: str | None = "ci", client: str = "192.0.2.1", request_id: str = "rid") -> None:
    # the test runs in its own task: what it sets stays with it
    audit.actor_var.set(Actor(login, token, client))
    request_id_var.set(request_id)


async def trail(core, owner: str = "alice", **kw) -> list[tuple[str, str]]:
    return [(e.action, e.target) for e in await core.list_audit(AuditQuery(owner, **kw))]


async def test_every_change_is_recorded(core, h):
    act("alice", "ci", "192.0.2.1", "rid-upload")
    await h.release(core, package="pkg", version="1.0")
    await h.upload(core, "alice", "pkg", "1.0", "pkg-1.0-py3-none-any.whl", wheel(), distribution_type="pypi")
    await h.upload(core, "alice", "pkg", "1.0", "data.txt", b"two")
    await core.update_package("alice", "pkg", '{"summary": "new"}')
    await core.update_release("alice", "pkg", "1.0", '{"note": "x"}')
    await core.set_yanked("alice", "pkg", "1.0", "pkg-1.0-py3-none-any.whl", True, "broken")
    await core.set_yanked("alice", "pkg", "1.0", "pkg-1.0-py3-none-any.whl", True, "broken")  # no change: no entry
    await core.set_yanked("alice", "pkg", "1.0", "pkg-1.0-py3-none-any.whl", False)
    await core.labels.add("alice", "dev", package="pkg", version="1.0", basename="data.txt")
    await core.labels.copy_label("alice", "dev", "beta")
    await core.labels.set_locked("alice", "beta", True)
    await core.labels.set_locked("alice", "beta", True)  # locked already: no entry
    await core.labels.set_locked("alice", "beta", False)
    await core.labels.remove("alice", "dev")
    await core.labels.copy_files("alice", "pkg", "1.0", "data.txt", "main", "stable")
    await core.access.set_public("alice", "pkg", False)
    await core.access.set_public("alice", "pkg", False)  # no change: no entry
    await core.access.add_collaborator("alice", "pkg", "Bob")
    await core.access.add_collaborator("alice", "pkg", "bob")  # there already: no entry
    await core.access.remove_collaborator("alice", "pkg", "bob")
    await core.delete_file("alice", "pkg", "1.0", "data.txt")
    await core.delete_release("alice", "pkg", "1.0")
    await core.delete_package("alice", "pkg")

    f = "alice/pkg/1.0/data.txt"
    assert await trail(core) == [
        ("package.remove", "alice/pkg"),
        ("release.remove", "alice/pkg/1.0"),
        ("file.remove", f),
        ("collaborator.remove", "alice/pkg/collaborators/bob"),
        ("collaborator.add", "alice/pkg/collaborators/bob"),
        ("package.private", "alice/pkg"),
        ("file.copy", f + "#stable"),
        ("label.remove", f + "#dev"),
        ("label.unlock", "alice#beta"),
        ("label.lock", "alice#beta"),
        ("label.copy", f + "#beta"),
        ("label.add", f + "#dev"),
        ("file.unyank", "alice/pkg/1.0/pkg-1.0-py3-none-any.whl"),
        ("file.yank", "alice/pkg/1.0/pkg-1.0-py3-none-any.whl"),
        ("release.update", "alice/pkg/1.0"),
        ("package.update", "alice/pkg"),
        ("file.upload", f),
        ("file.upload", "alice/pkg/1.0/pkg-1.0-py3-none-any.whl"),
        ("release.create", "alice/pkg/1.0"),
        ("package.create", "alice/pkg"),
    ]
    entries = await core.list_audit(AuditQuery("alice"))
    assert {(e.actor, e.token, e.client, e.request_id, e.owner) for e in entries} == {("alice", "ci", "192.0.2.1", "rid-upload", "alice")}
    assert [e.at_ms for e in entries] == sorted((e.at_ms for e in entries), reverse=True)


async def test_refused_changes_record_nothing(core, h, tmp_path):
    act("alice")
    await h.release(core, package="pkg", version="1.0")
    await h.upload(core, "alice", "pkg", "1.0", "a.txt", b"a", labels=["main", "frozen"])
    await core.labels.set_locked("alice", "frozen", True)
    before = await trail(core)
    with pytest.raises(Conflict):
        await core.create_package("alice", "pkg")
    with pytest.raises(Conflict):
        await core.create_release("alice", "pkg", "1.0")
    with pytest.raises(Forbidden):
        await core.delete_file("alice", "pkg", "1.0", "a.txt")  # in a locked label
    with pytest.raises(Forbidden):
        await h.upload(core, "alice", "pkg", "1.0", "b.txt", b"b", labels=["frozen"])
    with pytest.raises(NotFound):
        await core.delete_file("alice", "pkg", "1.0", "missing.txt")
    with pytest.raises(NotFound):
        await core.access.add_collaborator("alice", "nope", "bob")
    assert await trail(core) == before


async def test_a_failed_store_write_stores_no_entry(store):
    """At the store: the entry is written with the change or not at all."""
    entry = audit.entry("alice", "package.create", "alice/pkg")
    pkg = PackageRecord(owner="alice", name="pkg", created_at_ms=1, modified_at_ms=1)
    await store.create_package(pkg, audit_entries=[entry])
    with pytest.raises(Conflict):
        await store.create_package(pkg, audit_entries=[audit.entry("alice", "package.create", "again")])

    def event(p, files):
        return [new_event(p.owner, package_removed=events_pb2.PackageRemoved(package=p.name))]

    assert await store.delete_package("alice", "other", event, audit_entries=[audit.entry("alice", "package.remove", "alice/other")]) is None
    assert await store.add_collaborator("alice", "other", "bob", audit_entries=[audit.entry("alice", "collaborator.add", "x")]) is None
    assert [e.target for e in await store.list_audit(AuditQuery("alice"))] == ["alice/pkg"]


async def test_pages_filters_and_retention(core, h, store):
    act("alice", None)
    await h.release(core, package="pkg", version="1.0")
    for i in range(4):
        await h.upload(core, "alice", "pkg", "1.0", f"f{i}.txt", bytes([i]))
    act("bob", "robot")
    await core.delete_file("alice", "pkg", "1.0", "f0.txt")
    everything = await core.list_audit(AuditQuery("alice"))
    assert len(everything) == 7
    pages, before = [], None
    while True:
        page = await core.list_audit(AuditQuery("alice", before=before, limit=2))
        if not page:
            break
        pages += page
        before = Position(page[-1].at_ms, page[-1].id)
    assert pages == everything
    assert [e.target for e in await core.list_audit(AuditQuery("alice", action="file.upload", limit=2))] == [
        "alice/pkg/1.0/f3.txt", "alice/pkg/1.0/f2.txt"]
    assert [(e.action, e.actor, e.token) for e in await core.list_audit(AuditQuery("alice", actor="bob"))] == [
        ("file.remove", "bob", "robot")]

    newest = everything[0].at_ms
    janitor = AuditJanitor(store.purge_audit, 1, sweep=store.sweep_audit, clock=lambda: (newest + 86_400_000 + 1) / 1000)
    assert await janitor.run_once() == 7
    assert await core.list_audit(AuditQuery("alice")) == []
