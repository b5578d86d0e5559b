"""CondaIndexPublisher: keeps every owner's conda channels published in the blob store.

Per owner it holds the owner's conda files placed in their (view, label, subdir) indexes
(OwnerChannels: loaded from the index store once, then kept current from the applied
changes) and rewrites only the documents of the indexes a change touched; an index whose
files did not change since it was last written is not rewritten (after a restart, the
manifest's hash of each published repodata.json tells). Write order keeps readers
consistent: shards, then the subdir's documents, then the shard index, then channeldata
and the manifest. Compressions run in worker threads while the event loop writes what is
ready, the public view's repodata.json first. Every document the gateway serves is stored
with its ETag in front (servicekit.published): the sha256 taken here once per version, in
the same worker threads, so the gateway answers without hashing.

Replicas: every document is written with a generation, the owner's applied-event count
the documents reflect, by a compare-and-set in the blob store (`write_if_newer`). A replica
that lost the owner to another one (its broker connection dropped mid-event) and still has
writes in flight finds a newer generation stored: its write is skipped, and it drops what it
holds of the owner so that it reloads from the index store if the owner comes back to it.

Crash safety: after publishing, the owner's state blob records how many applied events the
documents reflect. At start, an owner whose applied-event count is ahead of it (a crash
between applying an event and publishing it) is rebuilt from the index store.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Sequence

import msgpack
import zstandard
from pkgcloud_servicekit.blobstore import BlobNotFound, BlobStore
from pkgcloud_servicekit.published import VIEWS, conda_document_key, conda_label_prefix, conda_manifest_key, conda_owner_prefix, conda_state_key, document_body

from ..store import FileChange, IndexStore
from .owner_channels import OwnerChannels, Placement, conda_file
from .records import CondaFile
from .subdir_index import SubdirDocuments, SubdirIndex, stored_shard, stored_with_sha256

__all__ = ["CondaIndexPublisher", "conda_file"]

log = logging.getLogger(__name__)

_WRITE_BATCH = 32


class Superseded(Exception):
    """A document is stored at a newer generation than the one being written."""


class CondaIndexPublisher:
    def __init__(self, store: IndexStore, blobs: BlobStore):
        self.store = store
        self.blobs = blobs
        self._channels: dict[str, OwnerChannels] = {}
        self._manifests: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
        self._manifests_written: dict[tuple[str, str], bytes] = {}
        # (owner, view, label, subdir) -> the index and its generation when last written (or
        # found already published): an index still at that generation needs no write
        self._published: dict[tuple[str, str, str, str], tuple[SubdirIndex, int]] = {}
        self._written_shards: dict[str, set[str]] = {}
        # (label prefix, subdir) -> (the shards of the previous generation, of the current one)
        self._shard_generations: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
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
                # resyncing it from the registry): what we hold is stale, reload it
                self._forget(owner)
            channels = self._channels.get(owner)
            if channels is None:
                # freshly loaded from the store, which holds these changes already: every
                # placement is compared by hash with what is published, not only the subdirs
                # the changes name, because another replica may have held the owner since,
                # and a superseded one may have left documents its manifest does not name
                channels = await self._load(owner)
                touched = {(view, label, s) for view in VIEWS
                           for label, s in channels.placements(view) | self._manifest_placements(owner, view)}
            else:
                touched = channels.apply(changes)
            # what we hold reflects the store now, even if a write below fails (then the next
            # publish retries it; a reload would only look at the subdirs of the next change)
            self._seen[owner] = applied
            try:
                if touched:
                    await self._publish(owner, touched, generation=applied)
                await self._mark_published(owner, applied)
            except Superseded as exc:
                # another replica published a newer state of this owner: what we hold is stale
                log.info("conda channels of %s: %s; leaving them to the newer writer", owner, exc)
                self._forget(owner)

    async def catch_up(self, owner: str) -> None:
        """An event arrived that the store had applied already (a redelivery after the
        replica that applied it lost its broker connection, maybe before publishing):
        publish the owner if the published state is behind the store."""
        if await self._published_count(owner) < await self._applied_count(owner):
            async with self._lock(owner):
                self._forget(owner)
            await self.publish(owner, [])

    async def rebuild(self, owner: str) -> None:
        async with self._lock(owner):
            applied = await self._applied_count(owner)
            self._channels.pop(owner, None)
            await self._load(owner)
            try:
                await self._publish(owner, set(), force=True, generation=applied)
                await self._mark_published(owner, applied)
            except Superseded as exc:
                log.info("conda channels of %s: %s; leaving them to the newer writer", owner, exc)
                self._forget(owner)
                return
            self._seen[owner] = applied

    async def rebuild_from(self, owner: str, files: Iterable[CondaFile]) -> None:
        """Rewrite every document of owner from these files (the registry's records)."""
        async with self._lock(owner):
            self._channels[owner] = OwnerChannels(files)
            await self._load_manifests(owner)
            # the store was resynced to these records (one more applied event): that count is
            # their generation; without a store they are written over any generation
            generation = await self._applied_count(owner) if self.store is not None else None
            await self._publish(owner, set(), force=True, generation=generation)
            if generation is not None:
                await self._mark_published(owner, generation)

    def _forget(self, owner: str) -> None:
        """Drop what this process remembers of owner's published state (it changed elsewhere)."""
        self._channels.pop(owner, None)
        self._seen.pop(owner, None)
        for view in VIEWS:
            self._manifests.pop((owner, view), None)
            self._manifests_written.pop((owner, view), None)
        root = conda_owner_prefix(owner)
        for prefix in [p for p in self._written_shards if p.startswith(root)]:
            del self._written_shards[prefix]
        for key in [k for k in self._shard_generations if k[0].startswith(root)]:
            del self._shard_generations[key]
        for key in [k for k in self._published if k[0] == owner]:
            del self._published[key]

    # --- state ----------------------------------------------------------------------
    async def _applied_count(self, owner: str) -> int:
        statuses = await self.store.owner_statuses(owner)
        return statuses[0].events_applied if statuses else 0

    async def _published_count(self, owner: str) -> int:
        try:
            return int(json.loads(await self.blobs.read_bytes(conda_state_key(owner))).get("events_applied", 0))
        except (BlobNotFound, ValueError, AttributeError):
            return -1

    async def _mark_published(self, owner: str, applied: int) -> None:
        await self._write(conda_state_key(owner), json.dumps({"events_applied": applied}).encode(), applied)

    async def _write(self, key: str, data: bytes, generation: int | None) -> None:
        """Write a document at a generation; raises Superseded when a newer one is stored."""
        if generation is None:
            await self.blobs.write_bytes(key, data)
        elif not await self.blobs.write_if_newer(key, data, generation):
            raise Superseded(f"{key} is stored at a generation newer than {generation}")

    async def _load(self, owner: str) -> OwnerChannels:
        files = await self.store.list_files(owner)
        channels = self._channels[owner] = OwnerChannels(conda_file(f) for f in files if f.type == "conda")
        await self._load_manifests(owner)
        return channels

    async def _load_manifests(self, owner: str) -> None:
        for view in VIEWS:
            if (owner, view) in self._manifests:
                continue
            try:
                raw = await self.blobs.read_bytes(conda_manifest_key(owner, view))
                self._manifests[(owner, view)] = json.loads(raw)
                self._manifests_written[(owner, view)] = raw
            except (BlobNotFound, ValueError):
                self._manifests[(owner, view)] = {}

    def _manifest_placements(self, owner: str, view: str) -> set[tuple[str, str]]:
        return {(label, s) for label, subdirs in self._manifests.get((owner, view), {}).items() for s in subdirs}

    # --- publishing -------------------------------------------------------------------
    async def _publish(self, owner: str, touched: set[Placement], *, force: bool = False, generation: int | None) -> None:
        channels = self._channels[owner]
        # (label, subdir) -> documents both views publish (no private file there): built once
        shared: dict[tuple[str, str], SubdirDocuments] = {}
        writes: dict[tuple[str, str], list[tuple[str, SubdirDocuments]]] = {}
        for view in VIEWS:
            for label, subdir in sorted(self._targets(owner, view, channels, touched, force)):
                index = channels.index(view, label, subdir)
                known = self._published.get((owner, view, label, subdir))
                if not force and known is not None and known[0] is index and known[1] == index.generation:
                    continue
                agree = channels.views_agree(label, subdir)
                docs = shared.get((label, subdir)) if agree else None
                if docs is None:
                    docs = index.documents()
                    if agree:
                        shared[(label, subdir)] = docs
                published_digest = self._manifests[(owner, view)][label].get(subdir)
                docs.start()
                if not force and known is None and published_digest is not None:
                    # not written by this process: skip it if what readers see is this already
                    if await docs.repodata_sha256() == published_digest:
                        self._published[(owner, view, label, subdir)] = (index, index.generation)
                        continue
                writes.setdefault((view, label), []).append((subdir, docs))
        tasks = {key: asyncio.ensure_future(self._write_subdirs(owner, *key, items, sweep=force, generation=generation))
                 for key, items in writes.items()}
        channeldata: dict[str, bytes] = {}
        for view in VIEWS:
            labels = set(self._manifests[(owner, view)]) if force else {label for v, label in writes if v == view}
            for label in sorted(labels):
                cd = channeldata.get(label) if channels.views_agree(label) else None
                if cd is None:
                    cd = channels.channeldata(view, label)
                    if channels.views_agree(label):
                        channeldata[label] = cd
                tasks[(view, label)] = asyncio.ensure_future(self._then_put(tasks[(view, label)], owner, view, label, cd, generation))
        try:
            await asyncio.gather(*tasks.values())
        except BaseException:
            # what failed is retried at the next publish (its index moved past what was written)
            for task in tasks.values():
                task.cancel()
            raise
        for view in VIEWS:
            manifest = json.dumps(self._manifests[(owner, view)], sort_keys=True).encode()
            if force or self._manifests_written.get((owner, view)) != manifest:
                await self._write(conda_manifest_key(owner, view), manifest, generation)
                self._manifests_written[(owner, view)] = manifest

    def _targets(self, owner: str, view: str, channels: OwnerChannels, touched: set[Placement], force: bool) -> set[tuple[str, str]]:
        """The (label, subdir) of view to look at: the touched ones, those changed since a
        failed write, a noarch for every label (clients need one), any subdir holding files
        but never published; with force, all."""
        manifest = self._manifests[(owner, view)]
        holding = channels.placements(view)
        targets = {(label, s) for v, label, s in touched if v == view}
        targets |= {(label, s) for (o, v, label, s), (index, generation) in self._published.items()
                    if o == owner and v == view and index.generation != generation}
        labels = {label for label, _ in holding | targets} | set(manifest) | {"main"}
        for label in labels:
            published = manifest.setdefault(label, {})
            if force:
                targets |= {(label, s) for s in published}
            if force or "noarch" not in published:
                targets.add((label, "noarch"))
        targets |= {p for p in holding if force or p[1] not in manifest[p[0]]}
        return targets

    async def _write_subdirs(self, owner: str, view: str, label: str, items: list[tuple[str, SubdirDocuments]], *, sweep: bool,
                             generation: int | None) -> None:
        channels = self._channels[owner]
        digests = await asyncio.gather(*(self._write_subdir(owner, view, label, subdir, docs, sweep=sweep, generation=generation)
                                         for subdir, docs in items))
        published = self._manifests[(owner, view)][label]
        for (subdir, _), (digest, generation) in zip(items, digests, strict=True):
            published[subdir] = digest
            index = channels.index(view, label, subdir)
            self._published[(owner, view, label, subdir)] = (index, generation)

    async def _then_put(self, before: asyncio.Future, owner: str, view: str, label: str, channeldata: bytes,
                        generation: int | None) -> None:
        await before  # the label's subdir documents first
        stored, _ = await asyncio.to_thread(stored_with_sha256, channeldata)
        await self._write(conda_document_key(owner, view, label, "channeldata.json"), stored, generation)

    async def _write_subdir(self, owner: str, view: str, label: str, subdir: str, docs: SubdirDocuments, *,
                            sweep: bool = False, generation: int | None = None) -> tuple[str, int]:
        """Write one subdir's documents in reader-safe order; (repodata.json's sha256, the
        generation of the index they were built from)."""
        index_generation = self._channels[owner].index(view, label, subdir).generation
        prefix = conda_label_prefix(owner, view, label)
        written = self._written_shards.setdefault(prefix, set())
        generation_key = (prefix, subdir)
        if generation_key not in self._shard_generations:
            # not known since this process started: what readers see now is the published index
            # (and the shards it names are there: the index is written after them)
            published = await self._published_shards(owner, view, label, subdir)
            self._shard_generations[generation_key] = (set(), published)
            written |= published
        new_shards = docs.shards
        await self._put_all(owner, view, label, [(p, new_shards[p]) for p in sorted(new_shards.keys() - written)])
        written.update(new_shards)

        async def put(path: str) -> None:
            await self._write(conda_document_key(owner, view, label, path), await docs.stored(path), generation)

        await asyncio.gather(*(put(p) for p in docs.plain), *(put(p) for p in docs.compressed_paths))
        # the shard index last: it must never name a shard that is not there yet
        await put(docs.shard_index_path)
        await self._collect_shards(owner, view, label, subdir, set(new_shards), sweep=sweep)
        return await docs.repodata_sha256(), index_generation

    async def _put_all(self, owner: str, view: str, label: str, items: list[tuple[str, bytes]]) -> None:
        # Independent blobs: written a batch at a time, so a store's per-write latency
        # (fsync on a filesystem, a round trip to S3) overlaps instead of adding up.
        for i in range(0, len(items), _WRITE_BATCH):
            await asyncio.gather(*(self.blobs.write_bytes(conda_document_key(owner, view, label, p), stored_shard(p, data))
                                   for p, data in items[i:i + _WRITE_BATCH]))

    async def _published_shards(self, owner: str, view: str, label: str, subdir: str) -> set[str]:
        try:
            raw = await self.blobs.read_bytes(conda_document_key(owner, view, label, f"{subdir}/repodata_shards.msgpack.zst"))
            index = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(document_body(raw)))
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
        prefix = conda_label_prefix(owner, view, label)
        previous, current = self._shard_generations[(prefix, subdir)]
        doomed = previous - current - new
        if sweep:
            listed = conda_document_key(owner, view, label, f"{subdir}/shards/")
            doomed |= {key[len(prefix) + 1:] async for key in self.blobs.list(listed)} - current - new
        for path in sorted(doomed):
            await self.blobs.delete(conda_document_key(owner, view, label, path))
        self._written_shards.get(prefix, set()).difference_update(doomed)
        self._shard_generations[(prefix, subdir)] = (current, new)
