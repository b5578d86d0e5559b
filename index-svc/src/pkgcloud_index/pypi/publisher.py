"""PypiIndexPublisher: keeps every owner's simple pages in the blob store up to date.

An event touches a few packages: only their project pages are re-rendered (in every label
and view they are or were in), plus the project lists of those labels and views. What is
published is remembered in a small per-owner state blob (label -> view -> projects), so
a list can be rewritten without reading the owner's other files.

Replicas: pages and the state blob are written with a generation, the owner's applied-event
count read before the files are, by a compare-and-set in the blob store (`write_if_newer`):
a replica that lost the owner to another one and is still writing finds a newer generation
stored and stops, so it never puts an older page over a newer one. (A page deleted by the
newer replica has no generation left to compare with; a stale write of it would come back
until the project's next change or a rebuild. Partitioning makes that stale writer rare.)

Crash safety: the index store commits an event before the publishers see it, so a crash in
between leaves pages behind the store. `start()` therefore re-renders every owner from the
store (writing only pages whose bytes changed) and deletes pages nothing backs any more;
after that the pages are exactly what the store says, whatever was interrupted.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence

from pkgcloud_servicekit.blobstore import BlobNotFound, BlobStore
from pkgcloud_servicekit.indexes import normalize_project
from pkgcloud_servicekit.published import (
    PYPI_FORMATS,
    VIEWS,
    parse_stored_document,
    pypi_owner_prefix,
    pypi_page_key,
    pypi_state_key,
    stored_document,
)

from ..store import FileChange, IndexedFile, IndexStore, RemoveFile, RemovePackage, SetPackagePrivacy, UpsertFile
from . import pages

log = logging.getLogger(__name__)


class Superseded(Exception):
    """A page is stored at a newer generation than the one being written."""

State = dict[str, dict[str, dict[str, str]]]  # label -> view -> normalized -> display name

_RENDER = {
    ("project", "json"): pages.project_json,
    ("project", "html"): pages.project_html,
    ("list", "json"): pages.list_json,
    ("list", "html"): pages.list_html,
}


def _views_of(f: IndexedFile) -> tuple[str, ...]:
    return VIEWS if f.public else ("private",)


class PypiIndexPublisher:
    def __init__(self, store: IndexStore, blobs: BlobStore):
        self.store = store
        self.blobs = blobs

    # --- the IndexPublisher seam ----------------------------------------------------
    async def start(self) -> None:
        for status in await self.store.owner_statuses():
            await self.rebuild(status.owner)

    async def publish(self, owner: str, changes: Sequence[FileChange]) -> None:
        packages: set[str] = set()
        for change in changes:
            match change:
                case UpsertFile(file=f):
                    if f.type == "pypi":
                        packages.add(f.package)
                case RemoveFile(package=p) | RemovePackage(package=p) | SetPackagePrivacy(package=p):
                    packages.add(p)
        if not packages:
            return
        generation = await self._generation(owner)
        state = await self._load_state(owner)
        touched_lists: set[tuple[str, str]] = set()
        for package in sorted(packages):
            files = [f for f in await self.store.list_files(owner, package) if f.type == "pypi"]
            try:
                touched_lists |= await self._publish_project(owner, normalize_project(package), package, files, state, generation=generation)
            except Superseded as exc:
                log.info("simple pages of %s: %s; leaving them to the newer writer", owner, exc)
                return
        try:
            for label, view in sorted(touched_lists):
                await self._publish_list(owner, label, view, state, generation)
            await self._save_state(owner, state, generation)
        except Superseded as exc:
            log.info("simple pages of %s: %s; leaving them to the newer writer", owner, exc)

    async def rebuild(self, owner: str) -> None:
        try:
            await self._rebuild(owner)
        except Superseded as exc:
            log.info("simple pages of %s: %s; leaving them to the newer writer", owner, exc)

    async def _rebuild(self, owner: str) -> None:
        generation = await self._generation(owner)
        files = [f for f in await self.store.list_files(owner) if f.type == "pypi"]
        by_project: dict[str, list[IndexedFile]] = defaultdict(list)
        for f in files:
            by_project[normalize_project(f.package)].append(f)
        state: State = {}
        written: set[str] = set()
        for project, project_files in sorted(by_project.items()):
            await self._publish_project(owner, project, project_files[0].package, project_files, state, written,
                                        generation=generation)
        for label in sorted(state):
            for view in sorted(state[label]):
                written |= await self._publish_list(owner, label, view, state, generation)
        # pages of projects, labels or views that no longer exist
        stale = [k async for k in self.blobs.list(pypi_owner_prefix(owner)) if k not in written and k != pypi_state_key(owner)]
        for key in stale:
            await self.blobs.delete(key)
        await self._save_state(owner, state, generation)

    # --- pages ----------------------------------------------------------------------
    async def _publish_project(
        self, owner: str, project: str, display: str, files: Iterable[IndexedFile], state: State, written: set[str] | None = None,
        *, generation: int,
    ) -> set[tuple[str, str]]:
        """Write the project's pages in every (label, view) it has files in, delete them where
        it had some before and has none now. Returns the (label, view) lists to rewrite."""
        groups: dict[tuple[str, str], list[IndexedFile]] = defaultdict(list)
        for f in files:
            for label in f.labels:
                for view in _views_of(f):
                    groups[(label, view)].append(f)
        before = {(label, view) for label, views in state.items() for view, projects in views.items() if project in projects}
        for (label, view), group in groups.items():
            for fmt in PYPI_FORMATS:
                key = pypi_page_key(owner, view, label, fmt, project)
                await self._write(key, _RENDER[("project", fmt)](display, group), generation)
                if written is not None:
                    written.add(key)
            state.setdefault(label, {}).setdefault(view, {})[project] = display
        for label, view in before - set(groups):
            for fmt in PYPI_FORMATS:
                await self.blobs.delete(pypi_page_key(owner, view, label, fmt, project))
            projects = state[label][view]
            projects.pop(project, None)
        return set(groups) | before

    async def _publish_list(self, owner: str, label: str, view: str, state: State, generation: int) -> set[str]:
        projects = state.get(label, {}).get(view, {})
        keys = {pypi_page_key(owner, view, label, fmt) for fmt in PYPI_FORMATS}
        if not projects:
            for key in keys:
                await self.blobs.delete(key)
            state.get(label, {}).pop(view, None)
            if label in state and not state[label]:
                del state[label]
            return set()
        for fmt in PYPI_FORMATS:
            await self._write(pypi_page_key(owner, view, label, fmt), _RENDER[("list", fmt)](projects), generation)
        return keys

    async def _write(self, key: str, body: bytes, generation: int) -> None:
        etag = pages.etag_of(body)
        try:
            current, _ = parse_stored_document(await self.blobs.read_bytes(key))
            if current == etag:
                return  # already published (a redelivered event, or a rebuild after a crash)
        except BlobNotFound:
            pass
        if not await self.blobs.write_if_newer(key, stored_document(etag, body), generation):
            raise Superseded(f"{key} is stored at a generation newer than {generation}")

    # --- state ----------------------------------------------------------------------
    async def _load_state(self, owner: str) -> State:
        try:
            value = json.loads(await self.blobs.read_bytes(pypi_state_key(owner)))
        except (BlobNotFound, ValueError):
            value = None
        if not isinstance(value, dict):
            # lost or damaged: rebuild it (and every page) from the store
            await self.rebuild(owner)
            value = json.loads(await self.blobs.read_bytes(pypi_state_key(owner)))
        return value

    async def _save_state(self, owner: str, state: State, generation: int) -> None:
        if not await self.blobs.write_if_newer(pypi_state_key(owner), json.dumps(state, sort_keys=True).encode(), generation):
            raise Superseded(f"{pypi_state_key(owner)} is stored at a generation newer than {generation}")

    async def _generation(self, owner: str) -> int:
        """The owner's applied-event count, read before the files: what is written from them
        is at least this new."""
        statuses = await self.store.owner_statuses(owner)
        return statuses[0].events_applied if statuses else 0
