"""CondaIndexPublisher: keeps every owner's conda channels published in the blob store.

Per owner it mirrors the owner's conda files in memory (loaded from the index store once,
then kept current from the applied changes) and rewrites only the (view, label, subdir)
documents a change touched; unchanged documents are not rewritten (the manifest remembers
each published repodata's hash). Write order keeps readers consistent: shards, then the
subdir's documents, then the shard index, then channeldata and the manifest.

Crash safety: after publishing, the owner's state blob records how many applied events the
documents reflect. At start, an owner whose applied-event count is ahead of it (a crash
between applying an event and publishing it) is rebuilt from the index store.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence

from pkgcloud_servicekit.blobstore import BlobNotFound, BlobStore

from ..store import FileChange, IndexedFile, IndexStore, RemoveFile, RemovePackage, SetPackagePrivacy, UpsertFile
from . import layout
from .builder import ChannelIndexBuilder
from .records import CondaFile

log = logging.getLogger(__name__)

FileKey = tuple[str, str, str]  # package, version, basename


def conda_file(f: IndexedFile) -> CondaFile:
    return CondaFile(
        package=f.package, version=f.version, basename=f.basename, subdir=f.subdir or f.basename.split("/", 1)[0],
        labels=tuple(f.labels), public=f.public, sha256=f.sha256, size=f.size,
        upload_time_ms=getattr(f, "upload_time_ms", 0), attrs_json=f.attrs_json,
    )


class CondaIndexPublisher:
    def __init__(self, store: IndexStore, blobs: BlobStore):
        self.store = store
        self.blobs = blobs
        self._mirrors: dict[str, dict[FileKey, CondaFile]] = {}
        self._builders: dict[str, ChannelIndexBuilder] = {}
        self._manifests: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
        self._written_shards: dict[str, set[str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, owner: str) -> asyncio.Lock:
        return self._locks.setdefault(owner, asyncio.Lock())

    # --- IndexPublisher ---------------------------------------------------------------
    async def start(self) -> None:
        for status in await self.store.owner_statuses(""):
            if await self._published_count(status.owner) < status.events_applied:
                log.info("republishing the conda channels of %s (left unpublished by a crash)", status.owner)
                await self.rebuild(status.owner)

    async def publish(self, owner: str, changes: Sequence[FileChange]) -> None:
        async with self._lock(owner):
            applied = await self._applied_count(owner)
            fresh = owner not in self._mirrors
            mirror = await self._mirror(owner)
            subdirs = self._affected_subdirs(mirror, changes)
            if not fresh:  # a freshly loaded mirror already holds these changes
                self._apply(mirror, changes)
            if subdirs:
                await self._publish(owner, subdirs)
            await self._mark_published(owner, applied)

    async def rebuild(self, owner: str) -> None:
        async with self._lock(owner):
            applied = await self._applied_count(owner)
            self._mirrors.pop(owner, None)
            mirror = await self._mirror(owner)
            await self._publish(owner, {f.subdir for f in mirror.values()} | self._manifest_subdirs(owner) | {"noarch"}, force=True)
            await self._mark_published(owner, applied)

    async def rebuild_from(self, owner: str, files: Iterable[CondaFile]) -> None:
        """Rewrite every document of owner from these files (the registry's records)."""
        async with self._lock(owner):
            self._mirrors[owner] = {(f.package, f.version, f.basename): f for f in files}
            await self._load_manifests(owner)
            subdirs = {f.subdir for f in self._mirrors[owner].values()} | self._manifest_subdirs(owner) | {"noarch"}
            await self._publish(owner, subdirs, force=True)

    # --- state ----------------------------------------------------------------------
    async def _applied_count(self, owner: str) -> int:
        statuses = await self.store.owner_statuses(owner)
        return statuses[0].events_applied if statuses else 0

    async def _published_count(self, owner: str) -> int:
        try:
            return int(json.loads(await self.blobs.read_bytes(layout.state_key(owner))).get("events_applied", 0))
        except (BlobNotFound, ValueError, AttributeError):
            return -1

    async def _mark_published(self, owner: str, applied: int) -> None:
        await self.blobs.put_bytes(layout.state_key(owner), json.dumps({"events_applied": applied}).encode())

    async def _mirror(self, owner: str) -> dict[FileKey, CondaFile]:
        mirror = self._mirrors.get(owner)
        if mirror is None:
            files = await self.store.list_files(owner)
            mirror = {(f.package, f.version, f.basename): conda_file(f) for f in files if f.type == "conda"}
            self._mirrors[owner] = mirror
            await self._load_manifests(owner)
        return mirror

    async def _load_manifests(self, owner: str) -> None:
        for view in layout.VIEWS:
            if (owner, view) in self._manifests:
                continue
            try:
                self._manifests[(owner, view)] = json.loads(await self.blobs.read_bytes(layout.manifest_key(owner, view)))
            except (BlobNotFound, ValueError):
                self._manifests[(owner, view)] = {}

    def _manifest_subdirs(self, owner: str) -> set[str]:
        return {s for view in layout.VIEWS for subdirs in self._manifests.get((owner, view), {}).values() for s in subdirs}

    # --- changes --------------------------------------------------------------------
    @staticmethod
    def _affected_subdirs(mirror: dict[FileKey, CondaFile], changes: Sequence[FileChange]) -> set[str]:
        out: set[str] = set()
        for change in changes:
            match change:
                case UpsertFile(file=f):
                    if f.type == "conda":
                        out.add(conda_file(f).subdir)
                    old = mirror.get((f.package, f.version, f.basename))
                    if old is not None:
                        out.add(old.subdir)
                case RemoveFile(package=p, version=v, basename=b):
                    old = mirror.get((p, v, b))
                    if old is not None:
                        out.add(old.subdir)
                case RemovePackage(package=p) | SetPackagePrivacy(package=p):
                    out |= {f.subdir for f in mirror.values() if f.package == p}
        return out

    @staticmethod
    def _apply(mirror: dict[FileKey, CondaFile], changes: Sequence[FileChange]) -> None:
        for change in changes:
            match change:
                case UpsertFile(file=f):
                    key = (f.package, f.version, f.basename)
                    if f.type == "conda":
                        mirror[key] = conda_file(f)
                    else:
                        mirror.pop(key, None)
                case RemoveFile(package=p, version=v, basename=b):
                    mirror.pop((p, v, b), None)
                case RemovePackage(package=p):
                    for key in [k for k in mirror if k[0] == p]:
                        del mirror[key]
                case SetPackagePrivacy(package=p, public=public):
                    for key, f in list(mirror.items()):
                        if key[0] == p:
                            mirror[key] = CondaFile(**{**f.__dict__, "public": public})

    # --- publishing -------------------------------------------------------------------
    async def _publish(self, owner: str, subdirs: set[str], *, force: bool = False) -> None:
        mirror = self._mirrors[owner]
        builder = self._builders.setdefault(owner, ChannelIndexBuilder())
        for view in layout.VIEWS:
            manifest = self._manifests.setdefault((owner, view), {})
            visible = [f for f in mirror.values() if view == "private" or f.public]
            by_label: dict[str, dict[str, list[CondaFile]]] = {}
            for f in visible:
                for label in f.labels:
                    by_label.setdefault(label, {}).setdefault(f.subdir, []).append(f)
            labels = set(by_label) | set(manifest) | {"main"}
            for label in sorted(labels):
                per_subdir = by_label.get(label, {})
                published = manifest.setdefault(label, {})
                targets = {s for s in subdirs if s in per_subdir or s in published}
                if "noarch" not in published:
                    targets.add("noarch")
                changed = False
                for subdir in sorted(targets):
                    docs = builder.subdir_documents(subdir, per_subdir.get(subdir, []))
                    digest = hashlib.sha256(docs[f"{subdir}/repodata.json"]).hexdigest()
                    if not force and published.get(subdir) == digest:
                        continue
                    await self._write_subdir(owner, view, label, subdir, docs)
                    published[subdir] = digest
                    changed = True
                if changed or force:
                    cd = builder.channeldata({s: fs for s, fs in per_subdir.items()})
                    await self.blobs.put_bytes(layout.document_key(owner, view, label, "channeldata.json"), cd)
            await self.blobs.put_bytes(layout.manifest_key(owner, view), json.dumps(manifest, sort_keys=True).encode())
        builder.forget_unused(mirror.values())

    async def _write_subdir(self, owner: str, view: str, label: str, subdir: str, docs: dict[str, bytes]) -> None:
        written = self._written_shards.setdefault(layout.label_prefix(owner, view, label), set())
        shard_index = f"{subdir}/repodata_shards.msgpack.zst"
        for path in sorted(p for p in docs if "/shards/" in p):
            if path not in written:
                await self.blobs.put_bytes(layout.document_key(owner, view, label, path), docs[path])
                written.add(path)
        for path in sorted(p for p in docs if "/shards/" not in p and p != shard_index):
            await self.blobs.put_bytes(layout.document_key(owner, view, label, path), docs[path])
        # the shard index last: it must never name a shard that is not there yet
        await self.blobs.put_bytes(layout.document_key(owner, view, label, shard_index), docs[shard_index])
