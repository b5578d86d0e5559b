"""Labels (anaconda.org's "channels" of an owner): list, show, copy, lock, remove, add, and
`anaconda copy` of files between labels. A label exists while a file carries it or it is
locked. Every file whose labels change is announced with file.labels_changed, written with
the change, so every affected label's index is rewritten."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit import audit
from pkgcloud_servicekit.errors import Conflict, Forbidden, Invalid, NotFound
from pkgcloud_servicekit.events import new_event

from . import names
from .convert import file_record
from .store import PackageRecord, RegistryStore, StoredFile

COPY_MODES = ("", "replace", "update")


@dataclass(frozen=True)
class LabelInfo:
    name: str
    is_locked: bool
    file_count: int


@dataclass(frozen=True)
class ChangedFile:
    file: StoredFile
    package_public: bool


def _labels_changed(pkg: PackageRecord, after: StoredFile, previous: tuple[str, ...]) -> events_pb2.Event:
    change = events_pb2.FileLabelsChanged(file=file_record(after, package_public=pkg.public), previous_labels=list(previous))
    return new_event(pkg.owner, file_labels_changed=change)


class LabelManager:
    def __init__(self, store: RegistryStore, notify: Callable[[], None]):
        self.store = store
        self.notify = notify

    async def _files(self, owner: str) -> list[StoredFile]:
        names.validate_owner(owner)
        return await self.store.list_owner_files(owner)

    async def require_unlocked(self, owner: str, labels: Iterable[str]) -> None:
        locked = set(await self.store.locked_labels(owner)) & set(labels)
        if locked:
            raise Forbidden(f"label {sorted(locked)[0]!r} of {owner} is locked: unlock it first (anaconda label --unlock)")

    async def list(self, owner: str) -> list[LabelInfo]:
        counts: dict[str, int] = {}
        for f in await self._files(owner):
            for label in f.labels:
                counts[label] = counts.get(label, 0) + 1
        locked = set(await self.store.locked_labels(owner))
        return [LabelInfo(n, n in locked, counts.get(n, 0)) for n in sorted(set(counts) | locked)]

    async def show(self, owner: str, label: str) -> tuple[LabelInfo, list[StoredFile]]:
        names.validate_label(label)
        files = [f for f in await self._files(owner) if label in f.labels]
        locked = label in await self.store.locked_labels(owner)
        if not files and not locked:
            raise NotFound(f"label {label!r} of {owner} not found")
        return LabelInfo(label, locked, len(files)), files

    async def set_locked(self, owner: str, label: str, locked: bool) -> LabelInfo:
        info, _ = await self.show(owner, label)
        entries = [audit.entry(owner, "label.lock" if locked else "label.unlock", f"{owner}#{label}")]
        await self.store.set_label_locked(owner, label, locked, audit_entries=entries)
        return LabelInfo(label, locked, info.file_count)

    async def _relabel(self, changes: list[tuple[StoredFile, tuple[str, ...]]], action: str, label: str) -> list[ChangedFile]:
        """Each file's new labels, its event and its audit entry (`action` on `label`), one
        atomic write per file."""
        out: list[ChangedFile] = []
        public: dict[str, bool] = {}

        def event(pkg: PackageRecord, after: StoredFile, previous: tuple[str, ...]) -> events_pb2.Event:
            public[pkg.name] = pkg.public
            return _labels_changed(pkg, after, previous)

        try:
            for f, labels in changes:
                entry = audit.entry(f.owner, action, f"{f.owner}/{f.package}/{f.version}/{f.basename}#{label}")
                after = await self.store.set_file_labels(f.owner, f.package, f.version, f.basename, labels, event, audit_entries=[entry])
                if after is not None:
                    out.append(ChangedFile(after, public.get(f.package, True)))
        finally:
            if out:
                self.notify()
        return out

    async def copy_label(self, owner: str, src: str, dst: str) -> list[ChangedFile]:
        names.validate_label(src)
        names.validate_label(dst)
        await self.require_unlocked(owner, [dst])
        _, files = await self.show(owner, src)
        return await self._relabel([(f, (*f.labels, dst)) for f in files if dst not in f.labels], "label.copy", dst)

    @staticmethod
    def _matches(f: StoredFile, package: str, version: str, basename: str) -> bool:
        return (not package or f.package == package) and (not version or f.version == version) and (not basename or f.basename == basename)

    async def remove(self, owner: str, label: str, package: str = "", version: str = "", basename: str = "") -> list[ChangedFile]:
        names.validate_label(label)
        await self.require_unlocked(owner, [label])
        files = [f for f in await self._files(owner) if label in f.labels and self._matches(f, package, version, basename)]
        if not files and not package:
            await self.show(owner, label)  # NotFound for a label that does not exist
        return await self._relabel([(f, tuple(x for x in f.labels if x != label)) for f in files], "label.remove", label)

    async def add(self, owner: str, label: str, package: str = "", version: str = "", basename: str = "") -> list[ChangedFile]:
        names.validate_label(label)
        if not package:
            raise Invalid("name the package whose files get the label")
        await self.require_unlocked(owner, [label])
        files = [f for f in await self._files(owner) if self._matches(f, package, version, basename)]
        if not files:
            raise NotFound(f"no file of {owner}/{package} matches")
        return await self._relabel([(f, (*f.labels, label)) for f in files if label not in f.labels], "label.add", label)

    async def copy_files(
        self, owner: str, package: str, version: str, basename: str, from_label: str, to_label: str, *, to_owner: str = "", mode: str = "",
    ) -> list[ChangedFile]:
        """anaconda copy within one owner: the release's files in from_label also get to_label.
        Without mode, a file already in to_label is a conflict; replace/update accept it.
        (Copies to another owner: owner_copy.)"""
        if mode not in COPY_MODES:
            raise Invalid(f"unknown copy mode {mode!r}")
        if to_owner and to_owner != owner:
            raise Invalid("a copy to another owner goes through owner_copy.copy_to_owner")
        names.validate_label(from_label or "main")
        names.validate_label(to_label or "main")
        from_label, to_label = from_label or "main", to_label or "main"
        await self.require_unlocked(owner, [to_label])
        files = [f for f in await self._files(owner) if f.package == package and f.version == version and from_label in f.labels
                 and (not basename or f.basename == basename)]
        if not files:
            raise NotFound(f"no file of {owner}/{package}/{version} in label {from_label!r}")
        already = [f for f in files if to_label in f.labels]
        if already and not mode and from_label != to_label:
            raise Conflict(f"file {already[0].basename} is already in label {to_label!r}")
        changed = await self._relabel([(f, (*f.labels, to_label)) for f in files if to_label not in f.labels], "file.copy", to_label)
        by_key = {(c.file.basename): c for c in changed}
        # the answer lists every copied file, also those that were already there
        return [by_key.get(f.basename) or ChangedFile(f, True) for f in files]
