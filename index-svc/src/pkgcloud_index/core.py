"""index-svc's logic, independent of gRPC and of the bus: apply events, report status.

The channel index builder (a later step) reads `files()` and publishes repodata; this core
is where it will be triggered after each applied change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from .converters import IncomingEvent
from .metrics import EVENTS
from .store import AppliedEvent, IndexedFile, IndexStore, OwnerStatus

log = logging.getLogger(__name__)


class IndexCore:
    def __init__(self, store: IndexStore, clock: Callable[[], float] = time.time):
        self.store = store
        self.clock = clock

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
        return applied

    async def status(self, owner: str = "") -> list[OwnerStatus]:
        return await self.store.owner_statuses(owner)

    async def files(self, owner: str, package: str = "") -> list[IndexedFile]:
        return await self.store.list_files(owner, package)
