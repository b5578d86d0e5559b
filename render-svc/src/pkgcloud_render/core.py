"""render-svc's logic, independent of gRPC and of the bus.

Every event is recorded once so the status shows how far render-svc has followed the
registry; a committed notebook is rendered (notebooks.py) before its event is recorded, so a
render that could not be stored leaves the event for redelivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .converters import IncomingEvent
from .metrics import EVENTS
from .notebooks import NotebookRenders
from .store import AppliedEvent, OwnerStatus, RenderStore


class RenderCore:
    def __init__(self, store: RenderStore, clock: Callable[[], float] = time.time, notebooks: NotebookRenders | None = None):
        self.store = store
        self.clock = clock
        self.notebooks = notebooks

    async def apply(self, event: IncomingEvent) -> bool:
        """Apply an event once; False if it had already been applied (nothing changes)."""
        if self.notebooks is not None and event.event_type == "file.committed" and event.file_type == "ipynb" and event.sha256:
            if not await self.store.is_applied(event.event_id):
                await self.notebooks.render(event.sha256, event.blob_key)
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
