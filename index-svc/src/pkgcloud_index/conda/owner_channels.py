"""OwnerChannels: one owner's conda files, each placed in the (view, label, subdir) indexes
it belongs to, kept current from the store's changes.

A file is in the private view of each of its labels, and in the public view too when its
package is public. The placements are maintained per change, never regrouped from the
whole channel: an upload touches one index per view and label it is in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from pkgcloud_servicekit import published

from ..store import FileChange, IndexedFile, RemoveFile, RemovePackage, SetPackagePrivacy, UpsertFile
from .channeldata import LabelChannelData
from .entries import FileEntry, SortKey, identity
from .records import CondaFile
from .subdir_index import SubdirIndex

FileKey = tuple[str, str, str]  # package, version, basename
Placement = tuple[str, str, str]  # view, label, subdir


def conda_file(f: IndexedFile) -> CondaFile:
    return CondaFile(
        package=f.package, version=f.version, basename=f.basename, subdir=f.subdir or f.basename.split("/", 1)[0],
        labels=tuple(f.labels), public=f.public, sha256=f.sha256, size=f.size,
        upload_time_ms=getattr(f, "upload_time_ms", 0), attrs_json=f.attrs_json,
    )


def placements(f: CondaFile) -> set[Placement]:
    views = published.VIEWS if f.public else ("private",)
    return {(view, label, f.subdir) for label in f.labels for view in views}


class OwnerChannels:
    def __init__(self, files: Iterable[CondaFile] = ()):
        self._files: dict[FileKey, tuple[CondaFile, FileEntry]] = {}
        self._by_package: dict[str, set[FileKey]] = {}
        # (view, label) -> subdir -> index; an index stays once made (its subdir stays published)
        self._indexes: dict[tuple[str, str], dict[str, SubdirIndex]] = {}
        self._channeldata: dict[tuple[str, str], LabelChannelData] = {}
        self._load(files)

    def __len__(self) -> int:
        return len(self._files)

    def _load(self, files: Iterable[CondaFile]) -> None:
        """upsert() of every file, grouped so that each index is filled once."""
        for f in files:
            self._files[(f.package, f.version, f.basename)] = (f, FileEntry(f))  # the last of duplicates wins
        grouped: dict[Placement, list[FileEntry]] = {}
        for key, (f, entry) in self._files.items():
            self._by_package.setdefault(f.package, set()).add(key)
            for placement in placements(f):
                grouped.setdefault(placement, []).append(entry)
        for (view, label, subdir), entries in grouped.items():
            self.index(view, label, subdir).load(entries)
            cd = self._label_channeldata(view, label)
            for name in {e.name for e in entries}:
                cd.touch(name)

    # --- reading --------------------------------------------------------------------
    def index(self, view: str, label: str, subdir: str) -> SubdirIndex:
        per = self._indexes.setdefault((view, label), {})
        index = per.get(subdir)
        if index is None:
            index = per[subdir] = SubdirIndex(subdir)
            other = self._indexes.get(("private" if view == "public" else "public", label), {}).get(subdir)
            if other is not None:
                index.twin, other.twin = other, index
        return index

    def subdir_indexes(self, view: str, label: str) -> dict[str, SubdirIndex]:
        return self._indexes.get((view, label), {})

    def placements(self, view: str) -> set[tuple[str, str]]:
        """(label, subdir) holding at least one file in view."""
        return {(label, s) for (v, label), per in self._indexes.items() if v == view for s, index in per.items() if len(index)}

    def subdirs_of(self, package: str) -> set[str]:
        return {self._files[key][0].subdir for key in self._by_package.get(package, ())}

    def views_agree(self, label: str, subdir: str | None = None) -> bool:
        """Whether the public view holds the same files as the private one (no private file
        there), for one subdir of label or all of them. The public files are a subset of
        the private ones, so equal counts are equal sets."""
        public, private = self.subdir_indexes("public", label), self.subdir_indexes("private", label)
        subdirs = [subdir] if subdir is not None else set(public) | set(private)
        return all((len(public[s]) if s in public else 0) == (len(private[s]) if s in private else 0) for s in subdirs)

    def channeldata(self, view: str, label: str) -> bytes:
        return self._label_channeldata(view, label).document(self.subdir_indexes(view, label))

    # --- changes --------------------------------------------------------------------
    def apply(self, changes: Sequence[FileChange]) -> set[Placement]:
        """Apply the store's changes; the placements whose files changed."""
        touched: set[Placement] = set()
        for change in changes:
            match change:
                case UpsertFile(file=f):
                    if f.type == "conda":
                        touched |= self.upsert(conda_file(f))
                    else:
                        touched |= self.remove((f.package, f.version, f.basename))
                case RemoveFile(package=p, version=v, basename=b):
                    touched |= self.remove((p, v, b))
                case RemovePackage(package=p):
                    for key in sorted(self._by_package.get(p, ())):
                        touched |= self.remove(key)
                case SetPackagePrivacy(package=p, public=public):
                    for key in sorted(self._by_package.get(p, ())):
                        f = self._files[key][0]
                        if f.public != public:
                            touched |= self.upsert(replace(f, public=public))
        return touched

    def upsert(self, f: CondaFile) -> set[Placement]:
        key = (f.package, f.version, f.basename)
        old = self._files.get(key)
        if old is not None and old[1].identity == identity(f):
            entry = old[1]  # only labels or privacy changed: the same pieces
        else:
            entry = FileEntry(f)
        touched = set()
        if old is not None:
            touched = {p for p in placements(old[0]) - placements(f) if self._index_remove(*p, old[1].key)}
        for view, label, subdir in placements(f):
            if self.index(view, label, subdir).add(entry):
                cd = self._label_channeldata(view, label)
                cd.touch(entry.name)
                if old is not None:
                    cd.touch(old[1].name)  # the entry it replaced may have carried another name
                touched.add((view, label, subdir))
        self._files[key] = (f, entry)
        self._by_package.setdefault(f.package, set()).add(key)
        return touched

    def remove(self, key: FileKey) -> set[Placement]:
        old = self._files.pop(key, None)
        if old is None:
            return set()
        keys = self._by_package[key[0]]
        keys.discard(key)
        if not keys:
            del self._by_package[key[0]]
        f, entry = old
        return {(view, label, subdir) for view, label, subdir in placements(f) if self._index_remove(view, label, subdir, entry.key)}

    def _index_remove(self, view: str, label: str, subdir: str, key: SortKey) -> bool:
        removed = self.index(view, label, subdir).remove(key)
        if removed is None:
            return False
        self._label_channeldata(view, label).touch(removed.name)
        return True

    def _label_channeldata(self, view: str, label: str) -> LabelChannelData:
        cd = self._channeldata.get((view, label))
        if cd is None:
            cd = self._channeldata[(view, label)] = LabelChannelData()
        return cd
