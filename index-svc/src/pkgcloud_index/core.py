"""index-svc's logic, independent of gRPC and of the bus: apply events, report status,
and hand every applied change to the index publishers (conda channels, PyPI pages), which
rewrite only what the change touched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from .converters import IncomingEvent
from .metrics import EVENTS
from .store import AppliedEvent, FileChange, IndexedFile, IndexStore, OwnerStatus

log = logging.getLogger(__name__)


class IndexPublisher(Protocol):
    """Turns the indexed files into published index documents (in the blob store)."""

    async def start(self) -> None:
        """Called once before events flow: finish anything a crash left half-published."""

    async def publish(self, owner: str, changes: Sequence[FileChange]) -> None:
        """Rewrite what these changes touched. Must be idempotent: after a crash the same
        changes may be published again."""

    async def rebuild(self, owner: str) -> None:
        """Rewrite every index document of owner from the indexed files."""


class IndexCore:
    def __init__(self, store: IndexStore, clock: Callable[[], float] = time.time, publishers: Sequence[IndexPublisher] = ()):
        self.store = store
        self.clock = clock
        self.publishers = list(publishers)

    async def apply(self, event: IncomingEvent) -> bool:
        """Apply an event once; False if it had already been applied (nothing changes)."""
        entry = AppliedEvent(
            event_id=event.event_id,
            event_type=event.event_type,
            owner=event.owner,
            applied_at_ms=int(self.clock() * 1000),
        )
        applied = await self.store.apply_event(entry, event.changes)
        EVENTS.labels("applied" if applied else "duplicate").inc()
        for publisher in self.publishers:
            if applied:
                await publisher.publish(event.owner, event.changes)
            elif (catch_up := getattr(publisher, "catch_up", None)) is not None:
                # a redelivery: the replica that applied it may have died before publishing
                await catch_up(event.owner)
        return applied

    async def status(self, owner: str = "") -> list[OwnerStatus]:
        return await self.store.owner_statuses(owner)

    async def files(self, owner: str, package: str = "") -> list[IndexedFile]:
        return await self.store.list_files(owner, package)
