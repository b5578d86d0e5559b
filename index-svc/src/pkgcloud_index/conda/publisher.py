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

import msgpack
import zstandard
from pkgcloud_servicekit.blobstore import BlobNotFound, BlobStore

from ..store import FileChange, IndexedFile, IndexStore, RemoveFile, RemovePackage, SetPackagePrivacy, UpsertFile
from . import layout
from .builder import ChannelIndexBuilder
from .records import CondaFile

log = logging.getLogger(__name__)

FileKey = tuple[str, str, str]  # package, version, basename
_WRITE_BATCH = 32


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
        # (owner, view, label, subdir) -> that subdir's share of the label's channeldata
        self._channeldata_parts: dict[tuple[str, str, str, str], dict] = {}
        # (label prefix, subdir) -> (the shards of the previous generation, of the current one)
        self._shard_generations: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._last_digest: tuple[bytes, str] | None = None
        self._seen: dict[str, int] = {}  # the store's applied-event count at our last publish

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
            seen = self._seen.get(owner)
            if seen is not None and applied > seen + 1:
                # someone else applied changes to the store (`pkgcloud admin rebuild-index`
                # resyncing it from the registry): the mirror is stale, reload it
                self._forget(owner)
            fresh = owner not in self._mirrors
            mirror = await self._mirror(owner)
            subdirs = self._affected_subdirs(mirror, changes)
            if not fresh:  # a freshly loaded mirror already holds these changes
                self._apply(mirror, changes)
            if subdirs:
                await self._publish(owner, subdirs)
            await self._mark_published(owner, applied)
            self._seen[owner] = applied

    async def rebuild(self, owner: str) -> None:
        async with self._lock(owner):
            applied = await self._applied_count(owner)
            self._mirrors.pop(owner, None)
            mirror = await self._mirror(owner)
            await self._publish(owner, {f.subdir for f in mirror.values()} | self._manifest_subdirs(owner) | {"noarch"}, force=True)
            await self._mark_published(owner, applied)
            self._seen[owner] = applied

    async def rebuild_from(self, owner: str, files: Iterable[CondaFile]) -> None:
        """Rewrite every document of owner from these files (the registry's records)."""
        async with self._lock(owner):
            self._mirrors[owner] = {(f.package, f.version, f.basename): f for f in files}
            await self._load_manifests(owner)
            subdirs = {f.subdir for f in self._mirrors[owner].values()} | self._manifest_subdirs(owner) | {"noarch"}
            await self._publish(owner, subdirs, force=True)
            if self.store is not None:
                await self._mark_published(owner, await self._applied_count(owner))

    def _forget(self, owner: str) -> None:
        """Drop what this process remembers of owner's published state (it changed elsewhere)."""
        self._mirrors.pop(owner, None)
        for view in layout.VIEWS:
            self._manifests.pop((owner, view), None)
        root = f"{layout.PREFIX}/{owner}/"
        for prefix in [p for p in self._written_shards if p.startswith(root)]:
            del self._written_shards[prefix]
        for key in [k for k in self._shard_generations if k[0].startswith(root)]:
            del self._shard_generations[key]
        for key in [k for k in self._channeldata_parts if k[0] == owner]:
            del self._channeldata_parts[key]

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
        # Every file grouped once; a (label, subdir) without a private file holds the same
        # files in both views, so the public view's documents, channeldata parts and
        # channeldata are reused for the private one (still written to both).
        everything: dict[str, dict[str, list[CondaFile]]] = {}
        with_private: set[tuple[str, str]] = set()
        for f in mirror.values():
            for label in f.labels:
                everything.setdefault(label, {}).setdefault(f.subdir, []).append(f)
                if not f.public:
                    with_private.add((label, f.subdir))
        shared_docs: dict[tuple[str, str], dict[str, bytes]] = {}
        shared_channeldata: dict[str, tuple[tuple, bytes, dict]] = {}
        for view in layout.VIEWS:
            manifest = self._manifests.setdefault((owner, view), {})
            by_label: dict[str, dict[str, list[CondaFile]]] = {}
            for label, per in everything.items():
                for subdir, files in per.items():
                    if view == "public" and (label, subdir) in with_private:
                        files = [f for f in files if f.public]
                        if not files:
                            continue
                    by_label.setdefault(label, {})[subdir] = files
            labels = set(by_label) | set(manifest) | {"main"}
            for label in sorted(labels):
                per_subdir = by_label.get(label, {})
                published = manifest.setdefault(label, {})
                targets = {s for s in subdirs if s in per_subdir or s in published}
                if "noarch" not in published:
                    targets.add("noarch")
                changed = False
                for subdir in sorted(targets):
                    shareable = (label, subdir) not in with_private
                    docs = shared_docs.get((label, subdir)) if shareable else None
                    if docs is None:
                        docs = builder.subdir_documents(subdir, per_subdir.get(subdir, []))
                        if shareable:
                            shared_docs[(label, subdir)] = docs
                    digest = self._digest(docs[f"{subdir}/repodata.json"])
                    if not force and published.get(subdir) == digest:
                        continue
                    await self._write_subdir(owner, view, label, subdir, docs, sweep=force)
                    published[subdir] = digest
                    changed = True
                parts = {}
                for subdir in sorted(per_subdir):
                    key = (owner, view, label, subdir)
                    public_key = (owner, "public", label, subdir)
                    if view != "public" and (label, subdir) not in with_private and public_key in self._channeldata_parts:
                        # the public view's part, computed from the same files in this pass
                        self._channeldata_parts[key] = self._channeldata_parts[public_key]
                    elif force or subdir in targets or key not in self._channeldata_parts:
                        self._channeldata_parts[key] = builder.channeldata_part(per_subdir[subdir])
                    parts[subdir] = self._channeldata_parts[key]
                for key in [k for k in self._channeldata_parts if k[:3] == (owner, view, label) and k[3] not in per_subdir]:
                    del self._channeldata_parts[key]
                if changed or force:
                    identity = tuple((s, id(part)) for s, part in parts.items())
                    known = shared_channeldata.get(label)
                    if known is not None and known[0] == identity:
                        cd = known[1]
                    else:
                        cd = builder.merge_channeldata(parts)
                        shared_channeldata[label] = (identity, cd, parts)  # parts held: the ids stay theirs
                    await self.blobs.put_bytes(layout.document_key(owner, view, label, "channeldata.json"), cd)
            await self.blobs.put_bytes(layout.manifest_key(owner, view), json.dumps(manifest, sort_keys=True).encode())
        builder.forget_unused(mirror.values())

    def _digest(self, body: bytes) -> str:
        # the builder hands both views the same bytes object when their files are the same
        if self._last_digest is None or self._last_digest[0] is not body:
            self._last_digest = (body, hashlib.sha256(body).hexdigest())
        return self._last_digest[1]

    async def _write_subdir(self, owner: str, view: str, label: str, subdir: str, docs: dict[str, bytes], *, sweep: bool = False) -> None:
        prefix = layout.label_prefix(owner, view, label)
        written = self._written_shards.setdefault(prefix, set())
        shard_index = f"{subdir}/repodata_shards.msgpack.zst"
        new_shards = {p for p in docs if "/shards/" in p}
        generation_key = (prefix, subdir)
        if generation_key not in self._shard_generations:
            # not known since this process started: what readers see now is the published index
            self._shard_generations[generation_key] = (set(), await self._published_shards(owner, view, label, subdir))
        await self._put_all(owner, view, label, [(p, docs[p]) for p in sorted(new_shards - written)])
        written |= new_shards
        await self._put_all(owner, view, label, [(p, docs[p]) for p in sorted(docs) if p not in new_shards and p != shard_index])
        # the shard index last: it must never name a shard that is not there yet
        await self.blobs.put_bytes(layout.document_key(owner, view, label, shard_index), docs[shard_index])
        await self._collect_shards(owner, view, label, subdir, new_shards, sweep=sweep)

    async def _put_all(self, owner: str, view: str, label: str, items: list[tuple[str, bytes]]) -> None:
        # Independent blobs: written a batch at a time, so a store's per-write latency
        # (fsync on a filesystem, a round trip to S3) overlaps instead of adding up.
        for i in range(0, len(items), _WRITE_BATCH):
            await asyncio.gather(*(self.blobs.put_bytes(layout.document_key(owner, view, label, p), data)
                                   for p, data in items[i:i + _WRITE_BATCH]))

    async def _published_shards(self, owner: str, view: str, label: str, subdir: str) -> set[str]:
        try:
            raw = await self.blobs.read_bytes(layout.document_key(owner, view, label, f"{subdir}/repodata_shards.msgpack.zst"))
            index = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(raw))
            return {f"{subdir}/shards/{bytes(h).hex()}.msgpack.zst" for h in index.get("shards", {}).values()}
        except (BlobNotFound, ValueError, zstandard.ZstdError, msgpack.UnpackException, AttributeError, TypeError):
            return set()

    async def _collect_shards(self, owner: str, view: str, label: str, subdir: str, new: set[str], *, sweep: bool) -> None:
        """Delete the shards no index references any more, one generation late.

        A client may have fetched the shard index an instant before this publish and still be
        fetching the shards it names: the generation just replaced stays until the next
        publish of this subdir. (A client that cached a shard index for its whole max-age
        and then asks for a shard deleted since gets a 404, and refetches the index: the
        same recovery as after any missing shard.) `sweep` (full rebuilds) also removes
        shards left by generations this process never saw (a restart, a crash).
        """
        prefix = layout.label_prefix(owner, view, label)
        previous, current = self._shard_generations[(prefix, subdir)]
        doomed = previous - current - new
        if sweep:
            listed = layout.document_key(owner, view, label, f"{subdir}/shards/")
            doomed |= {key[len(prefix) + 1:] async for key in self.blobs.list(listed)} - current - new
        for path in sorted(doomed):
            await self.blobs.delete(layout.document_key(owner, view, label, path))
        self._written_shards.get(prefix, set()).difference_update(doomed)
        self._shard_generations[(prefix, subdir)] = (current, new)
