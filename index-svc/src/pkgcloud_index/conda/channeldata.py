"""LabelChannelData: a label's channeldata.json as one JSON fragment per package name.

The document is `dumps({"channeldata_version": 1, "packages": {...}, "subdirs": [...]})`;
with sorted keys that is the names' `"name":{...}` fragments joined in name order, so an
update recomputes the fragments of the names it touched and joins the rest as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .entries import FileEntry, dumps
from .sorted_pieces import SortedPieces
from .subdir_index import SubdirIndex


def package_fragment(name: str, per_subdir: list[tuple[str, list[FileEntry]]]) -> bytes:
    """`"name":{...}` from the name's files, per subdir in subdir order, each in document
    order: run_exports per version (a later file's non-empty value wins), the newest
    timestamp, and version and about of the highest (version, build number), the first of
    equals winning."""
    run_exports: dict[str, Any] = {}
    timestamp = 0
    best: FileEntry | None = None
    for _, entries in per_subdir:
        for e in entries:
            if e.rx:
                run_exports[e.version] = e.rx
            if e.ts_s > timestamp:
                timestamp = e.ts_s
            if best is None or e.order > best.order:
                best = e
    assert best is not None
    package: dict[str, Any] = {"subdirs": [subdir for subdir, _ in per_subdir], "run_exports": run_exports,
                               "timestamp": timestamp, "version": best.version}
    package.update(best.about)
    return (dumps(name) + ":" + dumps(package)).encode()


class LabelChannelData:
    def __init__(self) -> None:
        self._fragments = SortedPieces[bytes]()
        self._dirty: set[str] = set()

    def touch(self, name: str) -> None:
        """The name's files changed in one of the label's subdirs."""
        self._dirty.add(name)

    def document(self, subdirs: Mapping[str, SubdirIndex]) -> bytes:
        """subdirs: the label's indexes in this view (empty ones are left out of the document)."""
        present = sorted(s for s, index in subdirs.items() if len(index))
        for name in self._dirty:
            per_subdir = [(s, subdirs[s].entries_of(name)) for s in present if subdirs[s].has_name(name)]
            if per_subdir:
                self._fragments.set(name, package_fragment(name, per_subdir))
            else:
                self._fragments.discard(name)
        self._dirty.clear()
        return b"".join((b'{"channeldata_version":1,"packages":{', self._fragments.join(), b'},"subdirs":',
                         dumps(present).encode(), b"}"))
