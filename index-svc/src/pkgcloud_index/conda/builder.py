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
from collections.abc import Iterable
from typing import Any

import msgpack
import zstandard

from .records import CondaFile, parse_attrs, record, run_exports

ZSTD_LEVEL = 3
_SHARDS_DIR = "shards/"


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True).compress(data)


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


class _Entry:
    __slots__ = ("key", "fn", "name", "version", "build_number", "timestamp", "depends", "json", "rec", "run_exports", "attrs")

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
        self.run_exports = _dumps(run_exports(attrs))
        self.attrs = attrs


class ChannelIndexBuilder:
    def __init__(self) -> None:
        self._entries: dict[tuple, _Entry] = {}
        self._shards: dict[tuple, tuple[str, bytes]] = {}

    def _entry(self, f: CondaFile) -> _Entry:
        key = (f.basename, f.sha256, f.upload_time_ms, f.attrs_json)
        e = self._entries.get(key)
        if e is None:
            e = self._entries[key] = _Entry(f)
        return e

    def forget_unused(self, live: Iterable[CondaFile]) -> None:
        """Drop cached entries of files that are gone (bounded memory)."""
        keep = {(f.basename, f.sha256, f.upload_time_ms, f.attrs_json) for f in live}
        for k in [k for k in self._entries if k not in keep]:
            del self._entries[k]
        if len(self._shards) > 4 * max(1, len(self._entries)):
            self._shards.clear()

    # --- one subdir ---------------------------------------------------------------
    def subdir_documents(self, subdir: str, files: Iterable[CondaFile]) -> dict[str, bytes]:
        """path (relative to the label root) -> bytes, for one subdir; shards under shards/."""
        entries = sorted((self._entry(f) for f in files), key=lambda e: e.fn)
        tar = [e for e in entries if e.fn.endswith(".tar.bz2")]
        conda = [e for e in entries if e.fn.endswith(".conda")]
        info = '{"subdir":' + _dumps(subdir) + "}"

        def packages(items: list[_Entry]) -> str:
            return "{" + ",".join(_dumps(e.fn) + ":" + e.json for e in items) + "}"

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
            return "{" + ",".join(_dumps(e.fn) + ':{"run_exports":' + e.run_exports + "}" for e in items) + "}"

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
            k = version_key(e.version)
            if e.name not in best or k > best[e.name]:
                best[e.name] = k
        return [e for e in entries if version_key(e.version) == best[e.name]]

    # --- the channel root ------------------------------------------------------------
    def channeldata(self, files_by_subdir: dict[str, list[CondaFile]]) -> bytes:
        packages: dict[str, dict[str, Any]] = {}
        newest: dict[str, tuple] = {}
        for subdir in sorted(files_by_subdir):
            for f in files_by_subdir[subdir]:
                e = self._entry(f)
                p = packages.setdefault(e.name, {"subdirs": [], "run_exports": {}, "timestamp": 0})
                if subdir not in p["subdirs"]:
                    p["subdirs"].append(subdir)
                rx = run_exports(e.attrs)
                if rx:
                    p["run_exports"][e.version] = rx
                p["timestamp"] = max(p["timestamp"], e.timestamp // 1000 if e.timestamp > 10**11 else e.timestamp)
                k = (version_key(e.version), e.build_number)
                if e.name not in newest or k > newest[e.name]:
                    newest[e.name] = k
                    p["version"] = e.version
                    about = e.attrs.get("about") if isinstance(e.attrs.get("about"), dict) else {}
                    for key in ("summary", "description", "home", "dev_url", "doc_url", "source_url", "license"):
                        value = about.get(key) or (e.rec.get(key) if key == "license" else None)
                        if isinstance(value, str):
                            p[key] = value
                        else:
                            p.pop(key, None)
        for p in packages.values():
            p["subdirs"].sort()
        doc = {"channeldata_version": 1, "packages": packages, "subdirs": sorted(files_by_subdir)}
        return _dumps(doc).encode()


def empty_subdir_documents(subdir: str) -> dict[str, bytes]:
    return ChannelIndexBuilder().subdir_documents(subdir, [])
