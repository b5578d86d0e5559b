"""What render-svc remembers between events, and the contract every backend keeps.

For now the ledger of applied events (ids, for idempotency) and a status line per owner;
rendered notebooks (by content hash, with status and limits hit) join it when rendering
lands, recorded in the same unit as the event that caused them.
"""

from __future__ import annotations

import abc

from pkgcloud_servicekit.event_ledger import AppliedEvent, OwnerStatus


class RenderStore(abc.ABC):
    @abc.abstractmethod
    async def open(self) -> None:
        """Create the schema / indexes if needed."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def apply_event(self, event: AppliedEvent) -> bool:
        """Record `event` and count it in its owner's status, once.

        Returns False, changing nothing, when the event id was already applied; a call that
        failed part-way is completed exactly once by the next call with the same id.
        """

    @abc.abstractmethod
    async def is_applied(self, event_id: str) -> bool:
        """Whether the event id was fully applied."""

    @abc.abstractmethod
    async def owner_statuses(self, owner: str = "") -> list[OwnerStatus]:
        """Status of one owner (empty list if nothing applied for it), or of every owner
        when `owner` is empty, sorted by owner."""
