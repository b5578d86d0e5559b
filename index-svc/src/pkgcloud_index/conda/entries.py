"""FileEntry: one conda file with every piece the channel documents need, computed once when
the file arrives (parsing and serializing records is what a large channel costs), so an
update only ever serializes the files it changed."""

from __future__ import annotations

import json
import re
from typing import Any

from .records import CondaFile, parse_attrs, record, run_exports


def dumps(value: Any) -> str:
    """The one JSON form of every document: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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

# Which repodata section a file is listed in; other extensions appear only in shards and channeldata.
TAR_BZ2, CONDA = "packages", "packages.conda"

# (fn, package, version, basename): the order of every document, and one per registry file.
# fn alone orders a channel; the rest only breaks the tie of two files claiming the same fn,
# so the order never depends on the order files arrived in.
SortKey = tuple[str, str, str, str]


def sort_key(f: CondaFile) -> SortKey:
    return (f.fn, f.package, f.version, f.basename)


def identity(f: CondaFile) -> tuple:
    """What a file's entry is built from: an upsert with the same identity changes no document."""
    return (f.basename, f.subdir, f.sha256, f.size, f.upload_time_ms, f.attrs_json)


class FileEntry:
    __slots__ = ("identity", "key", "fn", "section", "name", "version", "vkey", "order", "rec", "rx", "ts_s", "about",
                 "pair", "rx_pair")

    def __init__(self, f: CondaFile):
        attrs = parse_attrs(f)
        rec = record(f, attrs)
        self.identity = identity(f)
        self.key = sort_key(f)
        self.fn = f.fn
        self.section = CONDA if self.fn.endswith(".conda") else TAR_BZ2 if self.fn.endswith(".tar.bz2") else None
        self.name = str(rec.get("name", ""))
        self.version = str(rec.get("version", ""))
        build_number = rec.get("build_number", 0) if isinstance(rec.get("build_number"), int) else 0
        timestamp = rec.get("timestamp", 0) if isinstance(rec.get("timestamp"), int) else 0
        self.vkey = version_key(self.version)
        self.order = (self.vkey, build_number)
        self.ts_s = timestamp // 1000 if timestamp > 10**11 else timestamp
        self.rec = rec
        self.rx = run_exports(attrs)
        about = attrs.get("about") if isinstance(attrs.get("about"), dict) else {}
        fields = {}
        for key in _ABOUT_KEYS:
            value = about.get(key) or (rec.get(key) if key == "license" else None)
            if isinstance(value, str):
                fields[key] = value
        self.about = fields
        # '"fn":{record}' and '"fn":{"run_exports":...}', encoded: the documents are joins of these
        fn_json = dumps(self.fn)
        self.pair = (fn_json + ":" + dumps(rec)).encode()
        self.rx_pair = (fn_json + ':{"run_exports":' + dumps(self.rx) + "}").encode()
