"""ChannelIndexBuilder: the documents of one channel subdir (and the channel root) from its
files. Pure and deterministic (sorted keys, no clock), so a rebuild from the registry gives
the same bytes as the incremental path.

Serializing records dominates the cost of a large subdir, so the builder keeps each record's
JSON text and each package name's shard keyed by what they were built from: an update
re-serializes only the files that changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable
from typing import Any

import msgpack
import zstandard

from .records import CondaFile, parse_attrs, record, run_exports

ZSTD_LEVEL = 3
_SHARDS_DIR = "shards/"


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_COMPRESSOR = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True)


def _zstd(data: bytes) -> bytes:
    # one reusable compressor (its context is reset per frame; the publisher is single-threaded)
    return _COMPRESSOR.compress(data)


_VERSION_PART = re.compile(r"\d+|[a-z]+|[^a-z\d]+")


def version_key(version: str) -> tuple:
    """A sort key close to conda's VersionOrder for ordinary versions (1.10 > 1.9,
    1.0a1 < 1.0, post-release letters after numbers); used to pick current_repodata's newest."""
    epoch, _, rest = version.lower().rpartition("!")
    rest = rest.split("+", 1)[0]
    parts: list[tuple] = []
    for seg in re.split(r"[._-]", rest):
        for tok in _VERSION_PART.findall(seg):
            if tok.isdigit():
                parts.append((1, int(tok), ""))
            elif tok == "dev":
                parts.append((-2, 0, tok))
            elif tok == "post":
                parts.append((2, 0, tok))
            else:
                parts.append((0, 0, tok))
    return (int(epoch) if epoch.isdigit() else 0, tuple(parts))


_ABOUT_KEYS = ("summary", "description", "home", "dev_url", "doc_url", "source_url", "license")


class _Entry:
    """One file, with everything the documents need computed once (an update re-reads
    every entry of the label for channeldata and of the subdir for current_repodata)."""

    __slots__ = ("key", "fn", "name", "version", "build_number", "timestamp", "depends", "json", "rec", "run_exports", "attrs",
                 "vkey", "order", "rx", "ts_s", "about", "pair", "rx_pair")

    def __init__(self, f: CondaFile):
        attrs = parse_attrs(f)
        rec = record(f, attrs)
        self.key = (f.basename, f.sha256, f.upload_time_ms, f.attrs_json)
        self.fn = f.fn
        self.name = str(rec.get("name", ""))
        self.version = str(rec.get("version", ""))
        self.build_number = rec.get("build_number", 0) if isinstance(rec.get("build_number"), int) else 0
        self.timestamp = rec.get("timestamp", 0) if isinstance(rec.get("timestamp"), int) else 0
        self.depends = [d for d in rec.get("depends", []) if isinstance(d, str)]
        self.rec = rec
        self.json = _dumps(rec)
        self.rx = run_exports(attrs)
        self.run_exports = _dumps(self.rx)
        # "fn":{record} and "fn":{"run_exports":...}: the documents are joins of these
        self.pair = _dumps(self.fn) + ":" + self.json
        self.rx_pair = _dumps(self.fn) + ':{"run_exports":' + self.run_exports + "}"
        self.attrs = attrs
        self.vkey = version_key(self.version)
        self.order = (self.vkey, self.build_number)
        self.ts_s = self.timestamp // 1000 if self.timestamp > 10**11 else self.timestamp
        about = attrs.get("about") if isinstance(attrs.get("about"), dict) else {}
        fields = {}
        for key in _ABOUT_KEYS:
            value = about.get(key) or (rec.get(key) if key == "license" else None)
            if isinstance(value, str):
                fields[key] = value
        self.about = fields


class ChannelIndexBuilder:
    def __init__(self) -> None:
        self._entries: dict[tuple, _Entry] = {}
        self._shards: dict[tuple, tuple[str, bytes]] = {}
        self._last_subdir: dict[str, tuple[tuple, dict[str, bytes]]] = {}

    def _entry(self, f: CondaFile) -> _Entry:
        key = (f.basename, f.sha256, f.upload_time_ms, f.attrs_json)
        e = self._entries.get(key)
        if e is None:
            e = self._entries[key] = _Entry(f)
        return e

    def forget_unused(self, live: Collection[CondaFile]) -> None:
        """Drop cached entries of files that are gone (bounded memory); only once they make
        up a quarter of the cache, so an update does not walk every file for it."""
        if len(self._entries) <= 1.25 * len(live) + 64:  # type: ignore[arg-type]
            return
        keep = {(f.basename, f.sha256, f.upload_time_ms, f.attrs_json) for f in live}
        for k in [k for k in self._entries if k not in keep]:
            del self._entries[k]
        if len(self._shards) > 4 * max(1, len(self._entries)):
            self._shards.clear()
        self._last_subdir.clear()

    # --- one subdir ---------------------------------------------------------------
    def subdir_documents(self, subdir: str, files: Iterable[CondaFile]) -> dict[str, bytes]:
        """path (relative to the label root) -> bytes, for one subdir; shards under shards/."""
        entries = sorted((self._entry(f) for f in files), key=lambda e: e.fn)
        signature = tuple(e.key for e in entries)
        last = self._last_subdir.get(subdir)
        if last is not None and last[0] == signature:
            # the same files as the last call (the other view, or another label holding
            # the same files): the same documents
            return dict(last[1])
        docs = self._subdir_documents(subdir, entries)
        self._last_subdir[subdir] = (signature, docs)
        return dict(docs)

    def _subdir_documents(self, subdir: str, entries: list[_Entry]) -> dict[str, bytes]:
        tar = [e for e in entries if e.fn.endswith(".tar.bz2")]
        conda = [e for e in entries if e.fn.endswith(".conda")]
        info = '{"subdir":' + _dumps(subdir) + "}"

        def packages(items: list[_Entry]) -> str:
            return "{" + ",".join([e.pair for e in items]) + "}"

        repodata = (
            '{"info":' + info + ',"packages":' + packages(tar) + ',"packages.conda":' + packages(conda)
            + ',"removed":[],"repodata_version":1}'
        ).encode()
        docs = {f"{subdir}/repodata.json": repodata, f"{subdir}/repodata.json.zst": _zstd(repodata)}

        current = self._current(entries)
        cur = (
            '{"info":' + info + ',"packages":' + packages([e for e in current if e.fn.endswith(".tar.bz2")])
            + ',"packages.conda":' + packages([e for e in current if e.fn.endswith(".conda")]) + ',"removed":[],"repodata_version":1}'
        ).encode()
        docs[f"{subdir}/current_repodata.json"] = cur
        docs[f"{subdir}/current_repodata.json.zst"] = _zstd(cur)

        def exports(items: list[_Entry]) -> str:
            return "{" + ",".join([e.rx_pair for e in items]) + "}"

        rx = ('{"info":{"subdir":' + _dumps(subdir) + ',"version":1},"packages":' + exports(tar)
              + ',"packages.conda":' + exports(conda) + "}").encode()
        docs[f"{subdir}/run_exports.json"] = rx
        docs[f"{subdir}/run_exports.json.zst"] = _zstd(rx)

        by_name: dict[str, list[_Entry]] = {}
        for e in entries:
            by_name.setdefault(e.name, []).append(e)
        shard_hashes: dict[str, bytes] = {}
        for name in sorted(by_name):
            digest, data = self._shard(by_name[name])
            shard_hashes[name] = bytes.fromhex(digest)
            docs[f"{subdir}/{_SHARDS_DIR}{digest}.msgpack.zst"] = data
        index = {"info": {"base_url": "", "shards_base_url": "./" + _SHARDS_DIR, "subdir": subdir}, "shards": shard_hashes, "version": 1}
        docs[f"{subdir}/repodata_shards.msgpack.zst"] = _zstd(msgpack.packb(index))
        return docs

    def _shard(self, items: list[_Entry]) -> tuple[str, bytes]:
        key = tuple(e.key for e in items)
        cached = self._shards.get(key)
        if cached is not None:
            return cached
        shard: dict[str, Any] = {"packages": {}, "packages.conda": {}, "removed": []}
        for e in items:
            rec = dict(e.rec)
            # CEP 16: checksums as raw bytes in shards
            for k in ("md5", "sha256"):
                if isinstance(rec.get(k), str) and rec[k]:
                    rec[k] = bytes.fromhex(rec[k])
            shard["packages.conda" if e.fn.endswith(".conda") else "packages"][e.fn] = rec
        data = _zstd(msgpack.packb(shard))
        out = (hashlib.sha256(data).hexdigest(), data)
        self._shards[key] = out
        return out

    @staticmethod
    def _current(entries: list[_Entry]) -> list[_Entry]:
        """The newest version of each name (all its builds), as conda's current_repodata."""
        best: dict[str, tuple] = {}
        for e in entries:
            k = e.vkey
            if e.name not in best or k > best[e.name]:
                best[e.name] = k
        return [e for e in entries if e.vkey == best[e.name]]

    # --- the channel root ------------------------------------------------------------
    def channeldata(self, files_by_subdir: dict[str, list[CondaFile]]) -> bytes:
        return self.merge_channeldata({subdir: self.channeldata_part(files) for subdir, files in files_by_subdir.items()})

    def channeldata_part(self, files: Iterable[CondaFile]) -> dict[str, list]:
        """One subdir's share of channeldata, per name: [run_exports by version, newest
        timestamp, newest entry]. The publisher keeps the parts of the subdirs an update
        did not touch, so channeldata costs O(names) rather than O(files) per upload."""
        part: dict[str, list] = {}
        for f in files:
            e = self._entry(f)
            p = part.get(e.name)
            if p is None:
                part[e.name] = [{e.version: e.rx} if e.rx else {}, e.ts_s, e]
                continue
            if e.rx:
                p[0][e.version] = e.rx
            if e.ts_s > p[1]:
                p[1] = e.ts_s
            if e.order > p[2].order:  # the first of equals wins, as in one pass over the files
                p[2] = e
        return part

    @staticmethod
    def merge_channeldata(parts: dict[str, dict[str, list]]) -> bytes:
        packages: dict[str, dict[str, Any]] = {}
        best: dict[str, _Entry] = {}
        for subdir in sorted(parts):
            for name, (rx, ts, e) in parts[subdir].items():
                p = packages.get(name)
                if p is None:
                    p = packages[name] = {"subdirs": [], "run_exports": {}, "timestamp": 0}
                p["subdirs"].append(subdir)
                p["run_exports"].update(rx)
                if ts > p["timestamp"]:
                    p["timestamp"] = ts
                if name not in best or e.order > best[name].order:
                    best[name] = e
        for name, p in packages.items():
            e = best[name]
            p["version"] = e.version
            p.update(e.about)
        doc = {"channeldata_version": 1, "packages": packages, "subdirs": sorted(parts)}
        return _dumps(doc).encode()


def empty_subdir_documents(subdir: str) -> dict[str, bytes]:
    return ChannelIndexBuilder().subdir_documents(subdir, [])
