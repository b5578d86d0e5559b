"""MongoRegistryStore: production metadata on MongoDB (motor), without transactions.

The outbox is embedded (reference/outbox-and-stores.md, pattern b): every announced change is
one single-document write that also pushes the pending event onto that document's `outbox`
array, so it is atomic on a standalone server and on mongomock alike. A removed file or
package becomes a tombstone (`live: false`) until the relay has published its events, then
the relay deletes it. Unique indexes are partial on `live: true`, so a name is free again as
soon as its tombstone is written.

Events of different documents are ordered by `at`, a per-process increasing nanosecond
stamp; MongoDB offers no global commit order without transactions.

Audit entries ride the same way (servicekit.audit): pushed onto the changed document in the
write of the change, copied into the `audit` collection right after (`_settled`). A
tombstone is deleted only once both its events and its entries are gone from it. The one
change spanning documents without a decisive single write, a release's removal, records its
entry on the package document after the removal (see the ADR).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from typing import Any

from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit import audit
from pkgcloud_servicekit.audit import AuditEntry, MongoAuditLog, MongoAuditTrail
from pkgcloud_servicekit.errors import Conflict, NotFound
from pkgcloud_servicekit.events import encode
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from .interfaces import (
    STAGE_COMMITTED,
    EnsuredRelease,
    FilesRemovalEvents,
    PackageRecord,
    PackageRemovalEvents,
    PendingEvent,
    RegistryStore,
    ReleaseRecord,
    StagedUpload,
    StoredFile,
    best_project_match,
    project_key,
)

_LIVE = {"live": True}
_OUTBOX_COLLECTIONS = ("files", "packages")
#: packages created by ensure_release carry their PEP 503 project name here, unique per
#: owner among live ones: two uploads creating one project at once cannot both insert
#: (other packages lack the field: conda's `foo_bar` and `foo-bar` may both exist)
_PROJECT = "pypi_project"
_ENSURE_ATTEMPTS = 5
_last_at = 0


def _next_at() -> int:
    global _last_at
    _last_at = max(time.time_ns(), _last_at + 1)
    return _last_at


def _outbox_push(events: Sequence[events_pb2.Event]) -> tuple[dict, dict]:
    """($push, $min) parts of an update that queues these events on the document."""
    entries = [{"event_id": ev.id, "type": ev.type, "at": _next_at(), "data": encode(ev)} for ev in events]
    return {"outbox": {"$each": entries}}, {"outbox_at": entries[0]["at"]} if entries else {}


def _only(cls: type, doc: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in doc.items() if k in names}


def _pkg(doc: dict[str, Any]) -> PackageRecord:
    d = _only(PackageRecord, doc)
    d["package_types"] = tuple(d.get("package_types", ()))
    return PackageRecord(**d)


def _rel(doc: dict[str, Any]) -> ReleaseRecord:
    return ReleaseRecord(**_only(ReleaseRecord, doc))


def _file(doc: dict[str, Any]) -> StoredFile:
    d = _only(StoredFile, doc)
    d["labels"] = tuple(d.get("labels", ()))
    return StoredFile(**d)


def _stage(doc: dict[str, Any]) -> StagedUpload:
    d = _only(StagedUpload, doc)
    d["labels"] = tuple(d.get("labels", ()))
    return StagedUpload(**d)


def _doc(record: Any) -> dict[str, Any]:
    d = asdict(record)
    for k, v in d.items():
        if isinstance(v, tuple):
            d[k] = list(v)
    return d


class MongoRegistryStore(MongoAuditTrail, RegistryStore):
    def __init__(self, database: Any):
        """database: a motor (or mongomock-motor) database, see open_mongo_database."""
        self.db = database
        self.packages = database["packages"]
        self.releases = database["releases"]
        self.files = database["files"]
        self.stages = database["staged_uploads"]
        self.audit_log = MongoAuditLog(database, ("packages", "releases", "files", "label_locks"))

    async def open(self) -> None:
        await self.audit_log.open()
        await self.packages.create_index(
            [("owner", ASCENDING), ("name", ASCENDING)], unique=True, name="owner_name_live", partialFilterExpression=_LIVE
        )
        await self.packages.create_index(
            [("owner", ASCENDING), (_PROJECT, ASCENDING)], unique=True, name="owner_project_live",
            partialFilterExpression={"live": True, _PROJECT: {"$exists": True}},
        )
        await self.releases.create_index([("package_id", ASCENDING), ("version", ASCENDING)], unique=True, name="package_version")
        await self.releases.create_index([("owner", ASCENDING), ("package", ASCENDING), ("version", ASCENDING)], name="ref")
        await self.files.create_index(
            [("owner", ASCENDING), ("package", ASCENDING), ("version", ASCENDING), ("basename", ASCENDING)],
            unique=True, name="ref_live", partialFilterExpression=_LIVE,
        )
        await self.files.create_index([("package_id", ASCENDING)], name="package_id")
        await self.files.create_index([("sha256", ASCENDING)], name="sha256")
        await self.stages.create_index([("upload_key", ASCENDING)], unique=True, name="upload_key")
        await self.stages.create_index([("expires_at_ms", ASCENDING)], name="expiry")
        # issue 5: "which packages of this owner may this login read" on every non-owner read
        await self.packages.create_index([("collaborators", ASCENDING), ("owner", ASCENDING)], name="collaborators_owner")
        for name in _OUTBOX_COLLECTIONS:
            await self.db[name].create_index([("has_outbox", ASCENDING), ("outbox_at", ASCENDING)], name="pending", sparse=True)

    async def close(self) -> None:
        return None  # the client belongs to whoever opened the database

    async def _settled(self, collection: str, doc_id: Any, entries: Sequence[AuditEntry]) -> None:
        """Copy the entries a write just left on the document into `audit`."""
        if entries:
            await self.audit_log.settle(collection, {"_id": doc_id})
            if collection in _OUTBOX_COLLECTIONS:
                await self._reap(collection, doc_id)

    async def _reap(self, collection: str, doc_id: Any) -> None:
        """Delete a tombstone whose events are published and whose entries are recorded."""
        coll = self.db[collection]
        dead = {"_id": doc_id, "live": False, "outbox": {"$size": 0}, audit.HAS_PENDING: {"$ne": True}}
        if collection == "packages" and await coll.find_one(dead, {"_id": 1}):
            await self._purge_contents(doc_id)  # again, in case the remover crashed midway
        await coll.delete_one(dead)

    # --- packages -------------------------------------------------------------------
    async def _live_package(self, owner: str, name: str) -> dict[str, Any] | None:
        return await self.packages.find_one({"owner": owner, "name": name, "live": True})

    async def create_package(self, pkg: PackageRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> PackageRecord:
        # Leftovers of an earlier package of that name whose removal was interrupted.
        async for dead in self.packages.find({"owner": pkg.owner, "name": pkg.name, "live": False}, {"_id": 1}):
            await self._purge_contents(dead["_id"])
        doc = {"_id": uuid.uuid4().hex, **_doc(pkg), "live": True, "outbox": []}
        try:
            await self.packages.insert_one(audit.mongo_doc(doc, audit_entries))
        except DuplicateKeyError:
            raise Conflict(f"package {pkg.owner}/{pkg.name} already exists") from None
        await self._settled("packages", doc["_id"], audit_entries)
        return pkg

    async def get_package(self, owner: str, name: str) -> PackageRecord | None:
        doc = await self._live_package(owner, name)
        return _pkg(doc) if doc else None

    async def list_packages(self, owner: str) -> list[PackageRecord]:
        return [_pkg(d) async for d in self.packages.find({"owner": owner, "live": True}).sort("name", ASCENDING)]

    async def _project_docs(self, owner: str, name: str) -> list[dict[str, Any]]:
        # every spelling of the normalized name: its separators as runs of [-_.], any case
        pattern = "^" + "[-_.]+".join(re.escape(part) for part in project_key(name).split("-")) + "$"
        return [d async for d in self.packages.find({"owner": owner, "name": {"$regex": pattern, "$options": "i"}, "live": True})]

    async def _find_project_doc(self, owner: str, name: str) -> dict[str, Any] | None:
        docs = await self._project_docs(owner, name)
        best = best_project_match(name, [_pkg(d) for d in docs])
        return next(d for d in docs if d["name"] == best.name) if best else None

    async def find_project(self, owner: str, name: str) -> PackageRecord | None:
        doc = await self._find_project_doc(owner, name)
        return _pkg(doc) if doc else None

    async def ensure_release(
        self, pkg: PackageRecord, rel: ReleaseRecord, *, package_audit: Sequence[AuditEntry] = (),
        release_audit: Sequence[AuditEntry] = (),
    ) -> EnsuredRelease:
        # No transaction: the unique indexes decide. A lost insert race (owner_name_live or
        # owner_project_live) means another upload created the project: look again and use it.
        for _ in range(_ENSURE_ATTEMPTS):
            doc = await self._find_project_doc(pkg.owner, pkg.name)
            package_created = False
            if doc is None:
                async for dead in self.packages.find({"owner": pkg.owner, "name": pkg.name, "live": False}, {"_id": 1}):
                    await self._purge_contents(dead["_id"])  # leftovers of an interrupted removal
                doc = {"_id": uuid.uuid4().hex, **_doc(pkg), "live": True, "outbox": [], _PROJECT: project_key(pkg.name)}
                try:
                    await self.packages.insert_one(audit.mongo_doc(doc, package_audit))
                except DuplicateKeyError:
                    continue
                package_created = True
                await self._settled("packages", doc["_id"], package_audit)
            elif doc["name"] != pkg.name:
                return EnsuredRelease(_pkg(doc), None)
            found = _pkg(doc)
            existing = await self.releases.find_one({"package_id": doc["_id"], "version": rel.version})
            if existing is None:
                rel_doc = {"_id": uuid.uuid4().hex, "package_id": doc["_id"], **_doc(rel)}
                try:
                    await self.releases.insert_one(audit.mongo_doc(rel_doc, release_audit))
                except DuplicateKeyError:
                    existing = await self.releases.find_one({"package_id": doc["_id"], "version": rel.version})
                else:
                    await self._settled("releases", rel_doc["_id"], release_audit)
                    return EnsuredRelease(found, rel, package_created, True)
            if existing is not None:
                return EnsuredRelease(found, _rel(existing), package_created, False)
        raise Conflict(f"project {pkg.owner}/{pkg.name} is being created and removed concurrently; try again")

    async def update_package(self, owner: str, name: str, *, audit_entries: Sequence[AuditEntry] = (), **changes: Any) -> PackageRecord | None:
        allowed = {"public", "summary", "license", "package_types", "public_attrs", "modified_at_ms"}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"cannot update {sorted(unknown)}")
        sets = {k: list(v) if k == "package_types" else v for k, v in changes.items()}
        if not sets:
            doc = await self._live_package(owner, name)
        else:
            doc = await self.packages.find_one_and_update(
                {"owner": owner, "name": name, "live": True}, audit.mongo_update({"$set": sets}, audit_entries),
                return_document=ReturnDocument.AFTER,
            )
            if doc:
                await self._settled("packages", doc["_id"], audit_entries)
        return _pkg(doc) if doc else None

    async def delete_package(self, owner: str, name: str, make_events: PackageRemovalEvents, *, audit_entries: Sequence[AuditEntry] = ()) -> list[StoredFile] | None:
        doc = await self._live_package(owner, name)
        if doc is None:
            return None
        files = [_file(d) async for d in self.files.find({"package_id": doc["_id"], "live": True}).sort("upload_time_ms", ASCENDING)]
        push, first = _outbox_push(make_events(_pkg(doc), files))
        update: dict[str, Any] = {"$set": {"live": False, "has_outbox": bool(first)}, "$push": push}
        if first:
            update["$min"] = first
        res = await self.packages.update_one({"_id": doc["_id"], "live": True}, audit.mongo_update(update, audit_entries))
        if res.matched_count == 0:
            return None
        await self._purge_contents(doc["_id"])
        await self._settled("packages", doc["_id"], audit_entries)
        return files

    async def _purge_contents(self, package_id: str) -> None:
        """Drop a removed package's releases and files; files whose own events are still
        pending become tombstones that the relay deletes once they are published."""
        await self.releases.delete_many({"package_id": package_id})
        await self.files.delete_many({"package_id": package_id, "has_outbox": {"$ne": True}, audit.HAS_PENDING: {"$ne": True}})
        await self.files.update_many({"package_id": package_id}, {"$set": {"live": False}})

    # --- releases -------------------------------------------------------------------
    async def create_release(self, rel: ReleaseRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> ReleaseRecord:
        pkg = await self._live_package(rel.owner, rel.package)
        if pkg is None:
            raise NotFound("Package not found")
        doc = {"_id": uuid.uuid4().hex, "package_id": pkg["_id"], **_doc(rel)}
        try:
            await self.releases.insert_one(audit.mongo_doc(doc, audit_entries))
        except DuplicateKeyError:
            raise Conflict(f"release {rel.owner}/{rel.package}/{rel.version} already exists") from None
        await self._settled("releases", doc["_id"], audit_entries)
        return rel

    async def _release_doc(self, owner: str, package: str, version: str) -> tuple[dict, dict] | None:
        pkg = await self._live_package(owner, package)
        if pkg is None:
            return None
        rel = await self.releases.find_one({"package_id": pkg["_id"], "version": version})
        return (pkg, rel) if rel else None

    async def get_release(self, owner: str, package: str, version: str) -> ReleaseRecord | None:
        found = await self._release_doc(owner, package, version)
        return _rel(found[1]) if found else None

    async def list_releases(self, owner: str, package: str) -> list[ReleaseRecord]:
        pkg = await self._live_package(owner, package)
        if pkg is None:
            return []
        cursor = self.releases.find({"package_id": pkg["_id"]}).sort([("created_at_ms", ASCENDING), ("_id", ASCENDING)])
        return [_rel(d) async for d in cursor]

    async def update_release(self, owner: str, package: str, version: str, attrs: dict[str, Any], *, audit_entries: Sequence[AuditEntry] = ()) -> ReleaseRecord | None:
        found = await self._release_doc(owner, package, version)
        if found is None:
            return None
        doc = await self.releases.find_one_and_update(
            {"_id": found[1]["_id"]}, audit.mongo_update({"$set": {"attrs": attrs}}, audit_entries), return_document=ReturnDocument.AFTER
        )
        if doc:
            await self._settled("releases", doc["_id"], audit_entries)
        return _rel(doc) if doc else None

    async def delete_release(self, owner: str, package: str, version: str, make_events: FilesRemovalEvents, *, audit_entries: Sequence[AuditEntry] = ()) -> list[StoredFile] | None:
        found = await self._release_doc(owner, package, version)
        if found is None:
            return None
        pkg, rel = found
        docs = [d async for d in self.files.find({"package_id": pkg["_id"], "version": version, "live": True}).sort("upload_time_ms", ASCENDING)]
        files = [_file(d) for d in docs]
        events = list(make_events(_pkg(pkg), files))
        if len(events) != len(files):
            raise ValueError("MongoRegistryStore.delete_release needs exactly one event per file")
        removed = []
        # One document per file: each file's tombstone and its event are one atomic write.
        for d, f, ev in zip(docs, files, events, strict=True):
            if await self._tombstone_file(d["_id"], ev):
                removed.append(f)
        res = await self.releases.delete_one({"_id": rel["_id"]})
        if res.deleted_count and audit_entries:
            # several documents and no transaction: recorded once the release is gone (ADR)
            await self.packages.update_one({"_id": pkg["_id"]}, audit.mongo_update({}, audit_entries))
            await self._settled("packages", pkg["_id"], audit_entries)
        return removed

    async def _tombstone_file(self, file_id: str, event: events_pb2.Event, entries: Sequence[AuditEntry] = ()) -> bool:
        push, first = _outbox_push([event])
        res = await self.files.update_one(
            {"_id": file_id, "live": True},
            audit.mongo_update({"$set": {"live": False, "has_outbox": True}, "$push": push, "$min": first}, entries),
        )
        if res.matched_count == 1:
            await self._settled("files", file_id, entries)
        return res.matched_count == 1

    # --- files ----------------------------------------------------------------------
    def _file_filter(self, owner: str, package: str, version: str, basename: str) -> dict[str, Any]:
        return {"owner": owner, "package": package, "version": version, "basename": basename, "live": True}

    async def get_file(self, owner: str, package: str, version: str, basename: str) -> StoredFile | None:
        doc = await self.files.find_one(self._file_filter(owner, package, version, basename))
        return _file(doc) if doc else None

    async def list_files(self, owner: str, package: str, version: str | None = None) -> list[StoredFile]:
        q: dict[str, Any] = {"owner": owner, "package": package, "live": True}
        if version is not None:
            q["version"] = version
        return [_file(d) async for d in self.files.find(q).sort([("upload_time_ms", ASCENDING), ("_id", ASCENDING)])]

    async def add_file(
        self, file: StoredFile, event: events_pb2.Event, *, package_type: str, modified_at_ms: int, commit_dist_id: str | None = None,
        audit_entries: Sequence[AuditEntry] = (),
    ) -> StoredFile:
        found = await self._release_doc(file.owner, file.package, file.version)
        if found is None:
            raise NotFound("Release not found")
        pkg, _rel_doc = found
        push, first = _outbox_push([event])
        doc = {
            "_id": uuid.uuid4().hex, "package_id": pkg["_id"], **_doc(file), "live": True,
            "outbox": push["outbox"]["$each"], "has_outbox": True, **first,
        }
        try:
            await self.files.insert_one(audit.mongo_doc(doc, audit_entries))  # the file, its event and its entry: one write
        except DuplicateKeyError:
            raise Conflict(f"file {file.basename} already exists for package {file.package} version {file.version}") from None
        await self._settled("files", doc["_id"], audit_entries)
        # Derived state, idempotent: a crash here leaves a committed file and its event,
        # and a retried commit of the same bytes completes the rest.
        pkg_update: dict[str, Any] = {"$set": {"modified_at_ms": modified_at_ms}}
        if package_type:
            pkg_update["$addToSet"] = {"package_types": package_type}
        await self.packages.update_one({"_id": pkg["_id"]}, pkg_update)
        if commit_dist_id:
            await self.mark_stage_committed(commit_dist_id)
        return file

    async def delete_file(
        self, owner: str, package: str, version: str, basename: str, make_event: Callable[[PackageRecord, StoredFile], events_pb2.Event],
        *, audit_entries: Sequence[AuditEntry] = (),
    ) -> StoredFile | None:
        doc = await self.files.find_one(self._file_filter(owner, package, version, basename))
        if doc is None:
            return None
        pkg = await self.packages.find_one({"_id": doc["package_id"]})
        f = _file(doc)
        if pkg is None or not await self._tombstone_file(doc["_id"], make_event(_pkg(pkg), f), audit_entries):
            return None
        return f

    async def increment_downloads(self, owner: str, package: str, version: str, basename: str) -> StoredFile | None:
        doc = await self.files.find_one_and_update(
            self._file_filter(owner, package, version, basename), {"$inc": {"download_count": 1}}, return_document=ReturnDocument.AFTER
        )
        return _file(doc) if doc else None

    async def sha256_in_use(self, sha256: str) -> bool:
        return await self.files.find_one({"sha256": sha256, "live": True}, {"_id": 1}) is not None

    # --- staged uploads -------------------------------------------------------------
    async def put_stage(self, stage: StagedUpload) -> None:
        await self.stages.insert_one({"_id": stage.dist_id, **_doc(stage)})

    async def get_stage(self, dist_id: str) -> StagedUpload | None:
        doc = await self.stages.find_one({"_id": dist_id})
        return _stage(doc) if doc else None

    async def get_stage_by_key(self, upload_key: str) -> StagedUpload | None:
        doc = await self.stages.find_one({"upload_key": upload_key})
        return _stage(doc) if doc else None

    async def mark_stage_committed(self, dist_id: str) -> None:
        await self.stages.update_one({"_id": dist_id}, {"$set": {"state": STAGE_COMMITTED}})

    async def expired_stages(self, now_ms: int, limit: int = 100) -> list[StagedUpload]:
        cursor = self.stages.find({"expires_at_ms": {"$lt": now_ms}}).sort("expires_at_ms", ASCENDING).limit(limit)
        return [_stage(d) async for d in cursor]

    async def delete_stage(self, dist_id: str) -> None:
        await self.stages.delete_one({"_id": dist_id})

    # --- outbox ---------------------------------------------------------------------
    async def pending_events(self, limit: int = 100) -> list[PendingEvent]:
        entries: list[tuple[int, PendingEvent]] = []
        for name in _OUTBOX_COLLECTIONS:
            cursor = self.db[name].find({"has_outbox": True}, {"outbox": 1}).sort("outbox_at", ASCENDING).limit(limit)
            async for doc in cursor:
                for e in doc.get("outbox", []):
                    entries.append((e["at"], PendingEvent(event_id=e["event_id"], payload=bytes(e["data"]), token=(name, doc["_id"]))))
        entries.sort(key=lambda x: x[0])
        return [e for _, e in entries[:limit]]

    async def mark_sent(self, events: Sequence[PendingEvent]) -> None:
        by_doc: dict[tuple[str, str], list[str]] = {}
        for e in events:
            by_doc.setdefault(e.token, []).append(e.event_id)
        for (name, doc_id), ids in by_doc.items():
            coll = self.db[name]
            # $pull by id keeps events appended after the batch was read.
            await coll.update_one({"_id": doc_id}, {"$pull": {"outbox": {"event_id": {"$in": ids}}}})
            await coll.update_one({"_id": doc_id, "outbox": {"$size": 0}}, {"$unset": {"has_outbox": "", "outbox_at": ""}})
            await self._reap(name, doc_id)

    # for tests and the admin: the pending event ids
    async def outbox_rows(self) -> list[dict[str, Any]]:
        return [{"event_id": e.event_id, "sent_at_ms": None} for e in await self.pending_events(10_000)]

    # --- conda labels (issue 3) -----------------------------------------------------
    async def list_owner_files(self, owner: str, file_type: str = "") -> list[StoredFile]:
        q: dict[str, Any] = {"owner": owner, "live": True}
        if file_type:
            q["type"] = file_type
        cursor = self.files.find(q).sort([("package", ASCENDING), ("version", ASCENDING), ("basename", ASCENDING)])
        return [_file(d) async for d in cursor]

    async def set_file_labels(
        self, owner: str, package: str, version: str, basename: str, labels: tuple[str, ...],
        make_event: Callable[[PackageRecord, StoredFile, tuple[str, ...]], events_pb2.Event], *, audit_entries: Sequence[AuditEntry] = (),
    ) -> StoredFile | None:
        doc = await self.files.find_one(self._file_filter(owner, package, version, basename))
        if doc is None:
            return None
        pkg = await self.packages.find_one({"_id": doc["package_id"]})
        if pkg is None:
            return None
        before = _file(doc)
        after = before.with_(labels=tuple(labels))
        push, first = _outbox_push([make_event(_pkg(pkg), after, before.labels)])
        # the new labels and their event: one single-document write
        res = await self.files.update_one(
            {"_id": doc["_id"], "live": True, "labels": list(before.labels)},
            audit.mongo_update({"$set": {"labels": list(labels), "has_outbox": True}, "$push": push, "$min": first}, audit_entries),
        )
        if res.matched_count != 1:
            raise Conflict(f"the labels of {basename} changed meanwhile; try again")
        await self._settled("files", doc["_id"], audit_entries)
        return after

    # --- PyPI yanking (issue 4) -----------------------------------------------------
    async def set_file_yanked(
        self, owner: str, package: str, version: str, basename: str, yanked: bool, reason: str,
        make_event: Callable[[PackageRecord, StoredFile], events_pb2.Event], *, audit_entries: Sequence[AuditEntry] = (),
    ) -> StoredFile | None:
        doc = await self.files.find_one(self._file_filter(owner, package, version, basename))
        if doc is None:
            return None
        pkg = await self.packages.find_one({"_id": doc["package_id"]})
        if pkg is None:
            return None
        after = _file(doc).with_(yanked=yanked, yanked_reason=reason)
        push, first = _outbox_push([make_event(_pkg(pkg), after)])
        # the new state and its event: one single-document write (documents written before
        # yanking existed lack the fields; _file defaults them)
        res = await self.files.update_one(
            {"_id": doc["_id"], "live": True},
            audit.mongo_update({"$set": {"yanked": yanked, "yanked_reason": reason, "has_outbox": True}, "$push": push, "$min": first},
                               audit_entries),
        )
        if res.matched_count != 1:
            return None
        await self._settled("files", doc["_id"], audit_entries)
        return after

    # A lock is a document whose `locked` flips (documents written before it existed lack the
    # field and are locked): unlocking is a single-document write that can carry its entry.
    async def locked_labels(self, owner: str) -> list[str]:
        return sorted([d["label"] async for d in self.db["label_locks"].find({"owner": owner, "locked": {"$ne": False}})])

    async def set_label_locked(self, owner: str, label: str, locked: bool, *, audit_entries: Sequence[AuditEntry] = ()) -> None:
        locks = self.db["label_locks"]
        key = f"{owner}/{label}"
        current = {"locked": False} if locked else {"locked": {"$ne": False}}
        res = await locks.update_one({"_id": key, **current}, audit.mongo_update({"$set": {"locked": locked}}, audit_entries))
        if res.matched_count == 0:
            if not locked:
                return  # not locked: nothing changes
            try:
                await locks.insert_one(audit.mongo_doc({"_id": key, "owner": owner, "label": label, "locked": True}, audit_entries))
            except DuplicateKeyError:
                return  # locked already
        await self._settled("label_locks", key, audit_entries)

    async def bulk_add_files(self, files: Sequence[StoredFile], *, public: bool = True) -> int:
        now = int(time.time() * 1000)
        pkg_ids: dict[tuple[str, str], str] = {}
        docs: list[dict[str, Any]] = []
        for f in files:
            pk = (f.owner, f.package)
            if pk not in pkg_ids:
                existing = await self._live_package(*pk)
                if existing is None:
                    rec = PackageRecord(owner=f.owner, name=f.package, public=public, package_types=(f.type,), created_at_ms=now, modified_at_ms=now)
                    existing = {"_id": uuid.uuid4().hex, **_doc(rec), "live": True, "outbox": []}
                    await self.packages.insert_one(existing)
                pkg_ids[pk] = existing["_id"]
                known = {d["version"] async for d in self.releases.find({"package_id": existing["_id"]}, {"version": 1})}
                pkg_ids[pk + ("versions",)] = known  # type: ignore[index]
            versions = pkg_ids[pk + ("versions",)]  # type: ignore[index]
            if f.version not in versions:
                rel = ReleaseRecord(owner=f.owner, package=f.package, version=f.version, created_at_ms=now)
                await self.releases.insert_one({"_id": uuid.uuid4().hex, "package_id": pkg_ids[pk], **_doc(rel)})
                versions.add(f.version)
            docs.append({"_id": uuid.uuid4().hex, "package_id": pkg_ids[pk], **_doc(f.with_(upload_time_ms=f.upload_time_ms or now)), "live": True})
        inserted = 0
        for i in range(0, len(docs), 1000):
            for d in docs[i:i + 1000]:
                try:
                    await self.files.insert_one(d)
                    inserted += 1
                except DuplicateKeyError:
                    pass
        return inserted

    # --- private packages and authorized users (issue 5) ------------------------------
    # Authorized users live in the package document (`collaborators`): they go with it.
    async def set_package_public(
        self, owner: str, name: str, public: bool, modified_at_ms: int,
        make_event: Callable[[PackageRecord, list[StoredFile]], events_pb2.Event], *, audit_entries: Sequence[AuditEntry] = (),
    ) -> PackageRecord | None:
        doc = await self._live_package(owner, name)
        if doc is None:
            return None
        if bool(doc.get("public", True)) == public:
            return _pkg(doc)
        after = _pkg({**doc, "public": public, "modified_at_ms": modified_at_ms})
        files = [_file(d) async for d in self.files.find({"package_id": doc["_id"], "live": True}).sort("upload_time_ms", ASCENDING)]
        push, first = _outbox_push([make_event(after, files)])
        # one single-document write: the change and its event, only if nobody flipped it meanwhile
        res = await self.packages.update_one(
            {"_id": doc["_id"], "live": True, "public": not public},
            audit.mongo_update({"$set": {"public": public, "modified_at_ms": modified_at_ms, "has_outbox": True}, "$push": push, "$min": first},
                               audit_entries),
        )
        if res.matched_count == 0:
            return await self.get_package(owner, name)
        await self._settled("packages", doc["_id"], audit_entries)
        return after

    async def list_collaborators(self, owner: str, name: str) -> list[str] | None:
        doc = await self._live_package(owner, name)
        return None if doc is None else sorted(doc.get("collaborators", []))

    async def _change_collaborator(self, owner: str, name: str, login: str, add: bool, entries: Sequence[AuditEntry]) -> list[str] | None:
        # matched only when it changes something, so a no-op records no entry
        cond = {"collaborators": {"$ne": login}} if add else {"collaborators": login}
        op = {"$addToSet": {"collaborators": login}} if add else {"$pull": {"collaborators": login}}
        doc = await self.packages.find_one_and_update(
            {"owner": owner, "name": name, "live": True, **cond}, audit.mongo_update(op, entries), return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            doc = await self._live_package(owner, name)
        else:
            await self._settled("packages", doc["_id"], entries)
        return None if doc is None else sorted(doc.get("collaborators", []))

    async def add_collaborator(self, owner: str, name: str, login: str, *, audit_entries: Sequence[AuditEntry] = ()) -> list[str] | None:
        return await self._change_collaborator(owner, name, login, True, audit_entries)

    async def remove_collaborator(self, owner: str, name: str, login: str, *, audit_entries: Sequence[AuditEntry] = ()) -> list[str] | None:
        return await self._change_collaborator(owner, name, login, False, audit_entries)

    async def collaborations(self, login: str, owner: str) -> list[str]:
        cursor = self.packages.find({"collaborators": login, "owner": owner, "live": True}, {"name": 1}).sort("name", ASCENDING)
        return [d["name"] async for d in cursor]

    async def search_packages(self, name: str, limit: int, *, newest_first: bool = False,
                              public_only: bool = False) -> list[PackageRecord]:
        query: dict[str, Any] = {"name": {"$regex": re.escape(name), "$options": "i"}, "live": True}
        if public_only:
            query["public"] = True
        cursor = self.packages.find(query)
        by_name = [("owner", ASCENDING), ("name", ASCENDING)]
        cursor = cursor.sort([("modified_at_ms", DESCENDING), *by_name] if newest_first else by_name)
        out = []
        async for d in cursor:  # mongomock's to_list ignores its length: stop by hand
            out.append(_pkg(d))
            if len(out) >= limit:
                break
        return out

    # --- audit trail (issue 11) -----------------------------------------------------
    async def sweep_audit(self) -> None:
        await super().sweep_audit()
        for name in _OUTBOX_COLLECTIONS:
            async for d in self.db[name].find({"live": False, "outbox": {"$size": 0}}, {"_id": 1}):
                await self._reap(name, d["_id"])
