"""render-svc's logic, independent of gRPC and of the bus.

Rendering notebooks on file.committed (and on demand) grows here; for now every event is
recorded once so the status shows how far render-svc has followed the registry.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .converters import IncomingEvent
from .metrics import EVENTS
from .store import AppliedEvent, OwnerStatus, RenderStore


class RenderCore:
    def __init__(self, store: RenderStore, clock: Callable[[], float] = time.time):
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
        applied = await self.store.apply_event(entry)
        EVENTS.labels("applied" if applied else "duplicate").inc()
        return applied

    async def status(self, owner: str = "") -> list[OwnerStatus]:
        return await self.store.owner_statuses(owner)
