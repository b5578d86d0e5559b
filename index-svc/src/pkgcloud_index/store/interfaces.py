"""What index-svc remembers between events, and the contract every backend keeps.

Two things live here: the ledger of applied events (their ids, for idempotency, and a
status line per owner) and the current files index-svc has learned about from events,
which the channel index builder reads. Both change together: an event and its effects are
recorded as one unit, so a redelivered event changes nothing.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass

from pkgcloud_servicekit.event_ledger import AppliedEvent, OwnerStatus


@dataclass(frozen=True)
class IndexedFile:
    """A committed file as far as the indexes care (keyed by owner, package, version, basename)."""

    owner: str
    package: str
    version: str
    basename: str
    type: str
    subdir: str
    labels: tuple[str, ...]
    sha256: str
    size: int
    public: bool
    attrs_json: str
    # PyPI simple pages (issue 4): PEP 700 upload-time and PEP 592 yanking
    upload_time_ms: int = 0
    yanked: bool = False
    yanked_reason: str = ""


# The effects an event can have on the current files -----------------------------------


@dataclass(frozen=True)
class UpsertFile:
    file: IndexedFile


@dataclass(frozen=True)
class RemoveFile:
    owner: str
    package: str
    version: str
    basename: str


@dataclass(frozen=True)
class RemovePackage:
    owner: str
    package: str


@dataclass(frozen=True)
class SetPackagePrivacy:
    owner: str
    package: str
    public: bool


FileChange = UpsertFile | RemoveFile | RemovePackage | SetPackagePrivacy


class UnknownChange(TypeError):
    """A store was handed something that is not a FileChange (a programming error)."""


class IndexStore(abc.ABC):
    @abc.abstractmethod
    async def open(self) -> None:
        """Create the schema / indexes if needed."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def apply_event(self, event: AppliedEvent, changes: Sequence[FileChange]) -> bool:
        """Record `event` and apply `changes` (in order) as one unit.

        Returns False, changing nothing, when the event id was already applied. If applying
        fails part-way the call raises and a later call with the same event id completes it
        exactly once (SQLite rolls the whole unit back; MongoDB resumes, every effect being
        idempotent).
        """

    @abc.abstractmethod
    async def is_applied(self, event_id: str) -> bool:
        """Whether the event id was fully applied."""

    @abc.abstractmethod
    async def owner_statuses(self, owner: str = "") -> list[OwnerStatus]:
        """Status of one owner (empty list if nothing applied for it), or of every owner
        when `owner` is empty, sorted by owner."""

    @abc.abstractmethod
    async def list_files(self, owner: str, package: str = "") -> list[IndexedFile]:
        """Current files of an owner (optionally one package), sorted by package, version,
        basename."""
