"""index-svc's store on MongoDB, idempotent without transactions.

Transactions need a replica set (and mongomock has none), so an event is recorded in steps
that are each safe to repeat:

1. claim the event id: insert {_id: event_id, done: false}. A duplicate key on a finished
   event means "already applied"; on an unfinished one it means an earlier attempt stopped
   part-way, and this attempt finishes it.
2. apply the effects: upserts of whole file documents, deletes and `$set`s, all of which
   leave the same state when repeated.
3. count the event in the owner's status with a filter `last_event_id != event_id`: a retry
   after a crash between 3 and 4 finds its own id there and does not count twice.
4. mark the event done.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pkgcloud_servicekit import event_ledger as ledger
from pymongo import ASCENDING

from .interfaces import (
    AppliedEvent,
    FileChange,
    IndexedFile,
    IndexStore,
    OwnerStatus,
    RemoveFile,
    RemovePackage,
    SetPackagePrivacy,
    UnknownChange,
    UpsertFile,
)

_FILE_KEY = ("owner", "package", "version", "basename")


class MongoIndexStore(IndexStore):
    def __init__(self, db: Any):
        """db: a motor (or mongomock-motor) database, e.g. open_mongo_database(settings, "index")."""
        self.db = db
        self.applied = db["applied_events"]
        self.status = db["owner_status"]
        self.files = db["files"]

    async def open(self) -> None:
        await self.files.create_index([(k, ASCENDING) for k in _FILE_KEY], unique=True, name="file_key")
        await self.files.create_index(
            [("owner", ASCENDING), ("type", ASCENDING), ("subdir", ASCENDING)], name="files_by_subdir"
        )

    async def close(self) -> None:
        # The client belongs to whoever opened the database (the target closes it).
        return None

    async def apply_event(self, event: AppliedEvent, changes: Sequence[FileChange]) -> bool:
        # Reject a bad change list before claiming the id, so nothing is left half-claimed
        # by a programming error.
        for change in changes:
            if not isinstance(change, (UpsertFile, RemoveFile, RemovePackage, SetPackagePrivacy)):
                raise UnknownChange(f"not a file change: {change!r}")
        if not await ledger.mongo_claim(self.applied, event):
            return False
        for change in changes:
            await self._apply_change(change)
        await ledger.mongo_count_and_finish(self.applied, self.status, event)
        return True

    async def _apply_change(self, change: FileChange) -> None:
        match change:
            case UpsertFile(file=f):
                key = {k: getattr(f, k) for k in _FILE_KEY}
                doc = {
                    **key,
                    "type": f.type,
                    "subdir": f.subdir,
                    "labels": list(f.labels),
                    "sha256": f.sha256,
                    "size": f.size,
                    "public": f.public,
                    "attrs_json": f.attrs_json,
                    "upload_time_ms": f.upload_time_ms,
                    "yanked": f.yanked,
                    "yanked_reason": f.yanked_reason,
                }
                await self.files.replace_one(key, doc, upsert=True)
            case RemoveFile(owner=owner, package=package, version=version, basename=basename):
                await self.files.delete_one({"owner": owner, "package": package, "version": version, "basename": basename})
            case RemovePackage(owner=owner, package=package):
                await self.files.delete_many({"owner": owner, "package": package})
            case SetPackagePrivacy(owner=owner, package=package, public=public):
                await self.files.update_many({"owner": owner, "package": package}, {"$set": {"public": public}})
            case _:
                raise UnknownChange(f"not a file change: {change!r}")

    async def is_applied(self, event_id: str) -> bool:
        return await ledger.mongo_is_applied(self.applied, event_id)

    async def owner_statuses(self, owner: str = "") -> list[OwnerStatus]:
        return await ledger.mongo_owner_statuses(self.status, owner)

    async def list_files(self, owner: str, package: str = "") -> list[IndexedFile]:
        query: dict[str, Any] = {"owner": owner}
        if package:
            query["package"] = package
        cursor = self.files.find(query).sort([("package", ASCENDING), ("version", ASCENDING), ("basename", ASCENDING)])
        out = []
        async for d in cursor:
            out.append(
                IndexedFile(
                    owner=d["owner"],
                    package=d["package"],
                    version=d["version"],
                    basename=d["basename"],
                    type=d["type"],
                    subdir=d["subdir"],
                    labels=tuple(d["labels"]),
                    sha256=d["sha256"],
                    size=d["size"],
                    public=d["public"],
                    attrs_json=d["attrs_json"],
                    upload_time_ms=d.get("upload_time_ms", 0),
                    yanked=d.get("yanked", False),
                    yanked_reason=d.get("yanked_reason", ""),
                )
            )
        return out
