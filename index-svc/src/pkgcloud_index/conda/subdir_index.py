"""SubdirIndex: the files of one (view, label, subdir), kept the way its documents are made.

An upload changes one file of one package name. The index keeps the files in document order
(as byte pieces: a document is a join), grouped by name, with what each name contributes
(its current_repodata records, its shard) remembered until that name changes. Building the
documents after a change costs the names it touched plus the joins of the big documents;
nothing is sorted, parsed or serialized again.

SubdirDocuments is one state of those documents: shared by both views when they hold the
same files, its .zst forms compressed once each, in worker threads.
"""

from __future__ import annotations

import asyncio
import hashlib

import msgpack
from pkgcloud_servicekit.published import etag_of_digest, stored_document

from .compression import zstd
from .entries import CONDA, TAR_BZ2, FileEntry, SortKey, dumps
from .sorted_pieces import SortedPieces

SHARDS_DIR = "shards/"


class SubdirDocuments:
    """A subdir's documents: `plain` (path -> body), the compressed ones, their stored blobs
    (`stored(path)`: the body framed with its ETag, servicekit.published), repodata.json's
    sha256 (what the manifest records) and `shards` (path -> bytes, every shard the shard
    index names). The compressions and digests are computed once, however many views write
    them: a document is hashed here, once per version, so the gateway never has to."""

    def __init__(self, subdir: str, repodata: bytes, current: bytes, run_exports: bytes, shard_index: bytes,
                 shards: dict[str, bytes]):
        self.subdir = subdir
        self.repodata_path = f"{subdir}/repodata.json"
        self.shard_index_path = f"{subdir}/repodata_shards.msgpack.zst"
        self.plain = {self.repodata_path: repodata, f"{subdir}/current_repodata.json": current,
                      f"{subdir}/run_exports.json": run_exports}
        self._sources = {f"{path}.zst": data for path, data in self.plain.items()}
        self._sources[self.shard_index_path] = shard_index
        self.compressed_paths = [p for p in self._sources if p != self.shard_index_path]
        self.shards = shards
        # path -> (stored blob, sha256 of the body), or the worker's future of it
        self._results: dict[str, tuple[bytes, str] | asyncio.Future] = {}

    @property
    def repodata(self) -> bytes:
        return self.plain[self.repodata_path]

    def start(self) -> None:
        """Hand the compressions and digests to worker threads now (call on the event loop):
        submitted in the order they are needed, repodata.json.zst, the longest, first, then
        repodata.json (its digest decides whether anything is written at all)."""
        loop = asyncio.get_running_loop()
        jobs = [(path, _stored_zstd, data) for path, data in self._sources.items()]
        jobs[1:1] = [(path, stored_with_sha256, data) for path, data in self.plain.items()]
        for key, fn, data in jobs:
            if key not in self._results:
                self._results[key] = loop.run_in_executor(None, fn, data)

    async def stored(self, path: str) -> bytes:
        """The blob of a plain or compressed document: its body framed with its ETag."""
        return (await self._result(path))[0]

    async def repodata_sha256(self) -> str:
        return (await self._result(self.repodata_path))[1]

    async def _result(self, key: str) -> tuple[bytes, str]:
        value = self._results.get(key)
        if value is None:
            self.start()
            value = self._results[key]
        if isinstance(value, asyncio.Future):
            value = self._results[key] = await value
        return value

    def as_dict(self) -> dict[str, bytes]:
        """Every document's body, path (relative to the label root) -> bytes, compressed here."""
        out = dict(self.plain)
        for path, data in self._sources.items():
            out[path] = zstd(data)
        out.update(self.shards)
        return out


def stored_with_sha256(body: bytes) -> tuple[bytes, str]:
    """(the blob of a document: body framed with the ETag of its sha256, that sha256 in hex).
    Run in a worker thread for big documents: hashlib releases the GIL."""
    digest = hashlib.sha256(body).hexdigest()
    return stored_document(etag_of_digest(digest), body), digest


def _stored_zstd(source: bytes) -> tuple[bytes, str]:
    return stored_with_sha256(zstd(source))


def stored_shard(path: str, data: bytes) -> bytes:
    """A shard's blob. A shard is named by the sha256 of its bytes (CEP 16): the name is its
    digest, nothing to hash."""
    digest = path.rsplit("/", 1)[-1].removesuffix(".msgpack.zst")
    return stored_document(etag_of_digest(digest), data)


class SubdirIndex:
    def __init__(self, subdir: str):
        self.subdir = subdir
        self.generation = 0  # moves with every change of the files
        # the other view's index of the same label and subdir: a name holding the very same
        # files there has the same shard (the first private upload into a big public subdir
        # would otherwise compress every shard of it again)
        self.twin: SubdirIndex | None = None
        self._entries: dict[SortKey, FileEntry] = {}
        self._by_name: dict[str, dict[SortKey, FileEntry]] = {}
        self._repodata = {TAR_BZ2: SortedPieces[bytes](), CONDA: SortedPieces[bytes]()}
        self._run_exports = {TAR_BZ2: SortedPieces[bytes](), CONDA: SortedPieces[bytes]()}
        self._current = {TAR_BZ2: SortedPieces[bytes](), CONDA: SortedPieces[bytes]()}
        self._current_of: dict[str, list[FileEntry]] = {}  # name -> its entries in current_repodata
        self._shards: dict[str, tuple[bytes, str, bytes]] = {}  # name -> (raw sha256, path, zstd shard)
        self._shard_digests = SortedPieces[bytes]()  # name -> raw sha256 of its shard
        self._dirty: set[str] = set()  # names whose current records and shard are stale

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return list(self._by_name)

    def has_name(self, name: str) -> bool:
        return name in self._by_name

    def entries_of(self, name: str) -> list[FileEntry]:
        """The name's files in document order."""
        group = self._by_name.get(name, {})
        return [group[k] for k in sorted(group)]

    # --- changes --------------------------------------------------------------------
    def add(self, entry: FileEntry) -> bool:
        """Add or replace the file at entry.key; False when it holds this entry already."""
        old = self._entries.get(entry.key)
        if old is not None:
            if old.identity == entry.identity:
                return False
            self._unlink(old)
        self._entries[entry.key] = entry
        self._by_name.setdefault(entry.name, {})[entry.key] = entry
        if entry.section is not None:
            self._repodata[entry.section].set(entry.key, entry.pair)
            self._run_exports[entry.section].set(entry.key, entry.rx_pair)
        self._dirty.add(entry.name)
        self.generation += 1
        return True

    def load(self, entries: list[FileEntry]) -> None:
        """Fill an empty index (a channel being loaded): add() file by file, without its
        per-file bookkeeping."""
        if self._entries:
            for e in entries:
                self.add(e)
            return
        for e in entries:
            self._entries[e.key] = e
            self._by_name.setdefault(e.name, {})[e.key] = e
        for section in (TAR_BZ2, CONDA):
            self._repodata[section].load((e.key, e.pair) for e in entries if e.section == section)
            self._run_exports[section].load((e.key, e.rx_pair) for e in entries if e.section == section)
        self._dirty.update(self._by_name)
        self.generation += 1

    def remove(self, key: SortKey) -> FileEntry | None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._unlink(old)
            self.generation += 1
        return old

    def _unlink(self, old: FileEntry) -> None:
        self._entries.pop(old.key, None)
        group = self._by_name[old.name]
        del group[old.key]
        if not group:
            del self._by_name[old.name]
        if old.section is not None:
            self._repodata[old.section].discard(old.key)
            self._run_exports[old.section].discard(old.key)
        self._dirty.add(old.name)

    # --- documents ------------------------------------------------------------------
    def documents(self) -> SubdirDocuments:
        self._refresh_names()
        subdir = self.subdir
        info = b'{"subdir":' + dumps(subdir).encode() + b"}"

        def repodata(sections: dict[str, SortedPieces[bytes]]) -> bytes:
            return b"".join((b'{"info":', info, b',"packages":{', sections[TAR_BZ2].join(), b'},"packages.conda":{',
                             sections[CONDA].join(), b'},"removed":[],"repodata_version":1}'))

        run_exports = b"".join((b'{"info":{"subdir":', dumps(subdir).encode(), b',"version":1},"packages":{',
                                self._run_exports[TAR_BZ2].join(), b'},"packages.conda":{', self._run_exports[CONDA].join(), b"}}"))
        index = {"info": {"base_url": "", "shards_base_url": "./" + SHARDS_DIR, "subdir": subdir},
                 "shards": dict(zip(self._shard_digests.keys(), self._shard_digests.values(), strict=True)), "version": 1}
        return SubdirDocuments(subdir, repodata(self._repodata), repodata(self._current), run_exports, msgpack.packb(index),
                               {path: data for _, path, data in self._shards.values()})

    def _refresh_names(self) -> None:
        dirty = self._dirty
        if not dirty:
            return
        # all stale current records out before any new ones go in: a key may move between names
        for name in dirty:
            for e in self._current_of.pop(name, ()):
                self._current[e.section].discard(e.key)  # type: ignore[index]
        for name in dirty:
            items = self.entries_of(name)
            if not items:
                self._shards.pop(name, None)
                self._shard_digests.discard(name)
                continue
            # conda's current_repodata: the newest version of each name, all its builds
            best = max(e.vkey for e in items)
            current = [e for e in items if e.vkey == best and e.section is not None]
            for e in current:
                self._current[e.section].set(e.key, e.pair)  # type: ignore[index]
            self._current_of[name] = current
            shard = self._twin_shard(name, items)
            if shard is None:
                digest, data = _shard(items)
                shard = (digest, f"{self.subdir}/{SHARDS_DIR}{digest.hex()}.msgpack.zst", data)
            self._shards[name] = shard
            self._shard_digests.set(name, shard[0])
        dirty.clear()

    def _twin_shard(self, name: str, items: list[FileEntry]) -> tuple[bytes, str, bytes] | None:
        twin = self.twin
        if twin is None or name in twin._dirty:
            return None
        theirs = twin._by_name.get(name)
        if theirs is None or len(theirs) != len(items) or any(theirs.get(e.key) is not e for e in items):
            return None
        return twin._shards.get(name)


def _shard(items: list[FileEntry]) -> tuple[bytes, bytes]:
    """One name's shard (CEP 16), content-addressed: (raw sha256, zstd msgpack)."""
    shard: dict = {TAR_BZ2: {}, CONDA: {}, "removed": []}
    for e in items:
        rec = dict(e.rec)
        # CEP 16: checksums as raw bytes in shards
        for k in ("md5", "sha256"):
            if isinstance(rec.get(k), str) and rec[k]:
                rec[k] = bytes.fromhex(rec[k])
        shard[CONDA if e.section == CONDA else TAR_BZ2][e.fn] = rec
    data = zstd(msgpack.packb(shard))
    return hashlib.sha256(data).digest(), data
