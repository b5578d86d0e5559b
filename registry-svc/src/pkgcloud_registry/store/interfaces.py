"""The registry store contract. Implementations: SqliteRegistryStore, MongoRegistryStore.

Every write that must be announced takes the event(s) to store with it, and stores them
atomically with the change (the transactional outbox): either both are there or neither.
Writes that depend on what is stored (deleting a package announces the files it had) take a
callback that builds the events from the rows actually removed, inside that atomic write.

Every change also takes the audit entries recording it (`audit_entries`, built by the
core: servicekit.audit) and stores them the same way: in its transaction on SQLite, in the
single-document write of the change on MongoDB. A call that changes nothing stores none.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit.audit import AuditEntry, AuditTrailStore
from pkgcloud_servicekit.indexes import normalize_project


@dataclass(frozen=True)
class PackageRecord:
    owner: str
    name: str
    public: bool = True
    summary: str = ""
    license: str = ""
    package_types: tuple[str, ...] = ()
    public_attrs: dict[str, Any] = field(default_factory=dict)
    created_at_ms: int = 0
    modified_at_ms: int = 0


@dataclass(frozen=True)
class ReleaseRecord:
    owner: str
    package: str
    version: str
    attrs: dict[str, Any] = field(default_factory=dict)
    created_at_ms: int = 0


@dataclass(frozen=True)
class StoredFile:
    owner: str
    package: str
    version: str
    basename: str
    type: str
    sha256: str
    size: int
    md5: str
    blob_key: str
    subdir: str = ""
    labels: tuple[str, ...] = ("main",)
    blake2_256: str = ""
    attrs_json: str = "{}"
    dependencies_json: str = ""
    description: str = ""
    upload_time_ms: int = 0
    download_count: int = 0
    # PEP 592 (PyPI): a yanked file stays downloadable; installers skip it unless pinned
    yanked: bool = False
    yanked_reason: str = ""

    def with_(self, **changes: Any) -> StoredFile:
        return replace(self, **changes)


STAGE_OPEN = "staged"
STAGE_COMMITTED = "committed"


@dataclass(frozen=True)
class StagedUpload:
    dist_id: str
    owner: str
    package: str
    version: str
    basename: str
    upload_key: str
    distribution_type: str
    sha256: str
    labels: tuple[str, ...]
    expires_at_ms: int
    description: str = ""
    attrs_json: str = "{}"
    dependencies_json: str = ""
    created_at_ms: int = 0
    state: str = STAGE_OPEN


@dataclass(frozen=True)
class PendingEvent:
    """An outbox entry not yet confirmed published; `token` is the store's own handle."""

    event_id: str
    payload: bytes  # events.encode(Event)
    token: Any = None


@dataclass(frozen=True)
class EnsuredRelease:
    """What RegistryStore.ensure_release found or made."""

    package: PackageRecord
    #: None when the project exists under another spelling than asked (nothing was written)
    release: ReleaseRecord | None
    package_created: bool = False
    release_created: bool = False


def project_key(name: str) -> str:
    """PEP 503 normalized project name: how pip names a project, and how ensure_release and
    find_project match packages (servicekit.indexes: index-svc names pages the same way)."""
    return normalize_project(name)


def best_project_match(name: str, candidates: Sequence[PackageRecord]) -> PackageRecord | None:
    """The candidate spelled exactly `name`, else the first (by name) with its normalized name.
    Two spellings of one project can exist (conda names `foo_bar` and `foo-bar` differ, and
    packages made before PyPI uploads matched normalized names): the exact one wins."""
    key = project_key(name)
    matching = sorted((p for p in candidates if project_key(p.name) == key), key=lambda p: p.name)
    return next((p for p in matching if p.name == name), matching[0] if matching else None)


PackageRemovalEvents = Callable[[PackageRecord, list[StoredFile]], Sequence[events_pb2.Event]]
FilesRemovalEvents = Callable[[PackageRecord, list[StoredFile]], Sequence[events_pb2.Event]]


class RegistryStore(AuditTrailStore):
    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and create the schema / indexes."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    # --- packages -------------------------------------------------------------------
    @abc.abstractmethod
    async def create_package(self, pkg: PackageRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> PackageRecord:
        """Insert; raises Conflict when owner/name exists."""

    @abc.abstractmethod
    async def get_package(self, owner: str, name: str) -> PackageRecord | None: ...

    @abc.abstractmethod
    async def list_packages(self, owner: str) -> list[PackageRecord]:
        """The owner's packages ordered by name."""

    @abc.abstractmethod
    async def find_project(self, owner: str, name: str) -> PackageRecord | None:
        """The owner's package for the Python project `name`: matched by PEP 503 normalized
        name (`Tiny_Yank` finds `tiny-yank`), `best_project_match` choosing; None if none."""

    @abc.abstractmethod
    async def ensure_release(
        self, pkg: PackageRecord, rel: ReleaseRecord, *, package_audit: Sequence[AuditEntry] = (),
        release_audit: Sequence[AuditEntry] = (),
    ) -> EnsuredRelease:
        """twine's find-or-create, race-safe: the owner's package for pkg.name's project
        (as find_project matches it), inserted from `pkg` when there is none, then its
        release `rel.version`, inserted from `rel` when missing; each insertion stores its
        audit entries with it. When the project exists under another spelling than
        pkg.name, nothing is written (`release` None). Concurrent calls for one new project,
        whatever their spellings, end on one package: exactly one of them creates it."""

    @abc.abstractmethod
    async def update_package(self, owner: str, name: str, *, audit_entries: Sequence[AuditEntry] = (), **changes: Any) -> PackageRecord | None:
        """Set the given PackageRecord fields (not owner/name/created_at_ms); None if absent."""

    @abc.abstractmethod
    async def delete_package(self, owner: str, name: str, make_events: PackageRemovalEvents, *, audit_entries: Sequence[AuditEntry] = ()) -> list[StoredFile] | None:
        """Remove the package, its releases and files, storing make_events(package, files)
        atomically with the removal. Returns the removed files; None if absent."""

    # --- releases -------------------------------------------------------------------
    @abc.abstractmethod
    async def create_release(self, rel: ReleaseRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> ReleaseRecord:
        """Insert; raises NotFound without the package, Conflict when the version exists."""

    @abc.abstractmethod
    async def get_release(self, owner: str, package: str, version: str) -> ReleaseRecord | None: ...

    @abc.abstractmethod
    async def list_releases(self, owner: str, package: str) -> list[ReleaseRecord]:
        """Oldest first."""

    @abc.abstractmethod
    async def update_release(self, owner: str, package: str, version: str, attrs: dict[str, Any], *, audit_entries: Sequence[AuditEntry] = ()) -> ReleaseRecord | None:
        """Replace the release attrs; None if absent."""

    @abc.abstractmethod
    async def delete_release(self, owner: str, package: str, version: str, make_events: FilesRemovalEvents, *, audit_entries: Sequence[AuditEntry] = ()) -> list[StoredFile] | None:
        """Remove the release and its files, storing make_events(package, files) with the
        removal (on MongoDB, each file's event goes with that file's removal, and the audit
        entries with the package document right after: see the ADR). Returns the removed
        files; None if absent."""

    # --- files ----------------------------------------------------------------------
    @abc.abstractmethod
    async def get_file(self, owner: str, package: str, version: str, basename: str) -> StoredFile | None: ...

    @abc.abstractmethod
    async def list_files(self, owner: str, package: str, version: str | None = None) -> list[StoredFile]:
        """Files of the package (or of one release), by upload time."""

    @abc.abstractmethod
    async def add_file(
        self,
        file: StoredFile,
        event: events_pb2.Event,
        *,
        package_type: str,
        modified_at_ms: int,
        commit_dist_id: str | None = None,
        audit_entries: Sequence[AuditEntry] = (),
    ) -> StoredFile:
        """Record a committed file and its event; add package_type to the package's types,
        set its modified time and mark the staged upload committed. Raises Conflict when the
        basename is taken, NotFound when the release is gone."""

    @abc.abstractmethod
    async def delete_file(
        self, owner: str, package: str, version: str, basename: str, make_event: Callable[[PackageRecord, StoredFile], events_pb2.Event],
        *, audit_entries: Sequence[AuditEntry] = (),
    ) -> StoredFile | None:
        """Remove one file with its event; None if absent."""

    @abc.abstractmethod
    async def increment_downloads(self, owner: str, package: str, version: str, basename: str) -> StoredFile | None:
        """Count one download; the record after counting, None if absent."""

    @abc.abstractmethod
    async def sha256_in_use(self, sha256: str) -> bool:
        """Whether any live file still references these bytes."""

    # --- staged uploads -------------------------------------------------------------
    @abc.abstractmethod
    async def put_stage(self, stage: StagedUpload) -> None: ...

    @abc.abstractmethod
    async def get_stage(self, dist_id: str) -> StagedUpload | None: ...

    @abc.abstractmethod
    async def get_stage_by_key(self, upload_key: str) -> StagedUpload | None: ...

    @abc.abstractmethod
    async def mark_stage_committed(self, dist_id: str) -> None: ...

    @abc.abstractmethod
    async def expired_stages(self, now_ms: int, limit: int = 100) -> list[StagedUpload]:
        """Stages past their expiry, committed or not."""

    @abc.abstractmethod
    async def delete_stage(self, dist_id: str) -> None: ...

    # --- outbox ---------------------------------------------------------------------
    @abc.abstractmethod
    async def pending_events(self, limit: int = 100) -> list[PendingEvent]:
        """Unsent events, oldest first."""

    @abc.abstractmethod
    async def mark_sent(self, events: Sequence[PendingEvent]) -> None:
        """Forget these events (confirmed published)."""

    # --- conda labels (issue 3) -----------------------------------------------------
    @abc.abstractmethod
    async def list_owner_files(self, owner: str, file_type: str = "") -> list[StoredFile]:
        """Every file of the owner (optionally of one type), by package, version, basename."""

    @abc.abstractmethod
    async def set_file_labels(
        self, owner: str, package: str, version: str, basename: str, labels: tuple[str, ...],
        make_event: Callable[[PackageRecord, StoredFile, tuple[str, ...]], events_pb2.Event], *, audit_entries: Sequence[AuditEntry] = (),
    ) -> StoredFile | None:
        """Replace the file's labels, storing make_event(package, file_after, previous_labels)
        with the change. None if the file is absent."""

    @abc.abstractmethod
    async def locked_labels(self, owner: str) -> list[str]: ...

    @abc.abstractmethod
    async def set_label_locked(self, owner: str, label: str, locked: bool, *, audit_entries: Sequence[AuditEntry] = ()) -> None:
        """Lock or unlock; the entries are stored only when that changes the lock."""

    # --- PyPI yanking (issue 4) -----------------------------------------------------
    @abc.abstractmethod
    async def set_file_yanked(
        self, owner: str, package: str, version: str, basename: str, yanked: bool, reason: str,
        make_event: Callable[[PackageRecord, StoredFile], events_pb2.Event], *, audit_entries: Sequence[AuditEntry] = (),
    ) -> StoredFile | None:
        """Set the file's yanked state and reason, storing make_event(package, file_after)
        with the change. None if the file is absent."""

    @abc.abstractmethod
    async def bulk_add_files(self, files: Sequence[StoredFile], *, public: bool = True) -> int:
        """Insert many files without events, creating their packages and releases on the
        way, in few transactions (the benchmark's and migrations' path). Existing
        basenames are skipped. Returns how many were inserted."""

    # --- private packages and authorized users (issue 5) ------------------------------
    @abc.abstractmethod
    async def set_package_public(
        self, owner: str, name: str, public: bool, modified_at_ms: int,
        make_event: Callable[[PackageRecord, list[StoredFile]], events_pb2.Event], *, audit_entries: Sequence[AuditEntry] = (),
    ) -> PackageRecord | None:
        """Make the package public or private, storing make_event(package_after, files) with
        the change when the visibility changes (nothing is written when it does not).
        None if the package is absent."""

    @abc.abstractmethod
    async def list_collaborators(self, owner: str, name: str) -> list[str] | None:
        """The package's authorized users, sorted; None if the package is absent."""

    @abc.abstractmethod
    async def add_collaborator(self, owner: str, name: str, login: str, *, audit_entries: Sequence[AuditEntry] = ()) -> list[str] | None:
        """Add login (idempotent: the entries are stored only when it was absent); the
        authorized users after; None if the package is absent."""

    @abc.abstractmethod
    async def remove_collaborator(self, owner: str, name: str, login: str, *, audit_entries: Sequence[AuditEntry] = ()) -> list[str] | None:
        """Remove login (idempotent, like add); the authorized users after; None if the package is absent."""

    @abc.abstractmethod
    async def collaborations(self, login: str, owner: str) -> list[str]:
        """Names of owner's packages that login is an authorized user of, sorted (indexed:
        the gateway asks this on reads by non-owners)."""

    @abc.abstractmethod
    async def search_packages(self, name: str, limit: int, *, newest_first: bool = False,
                              public_only: bool = False) -> list[PackageRecord]:
        """Packages of any owner whose name contains `name` (case-insensitive), by owner
        and name (or most recently modified first), at most limit; only public ones when asked."""

    # --- audit trail (issue 11) -----------------------------------------------------
    # list_audit, purge_audit, sweep_audit: see AuditTrailStore
