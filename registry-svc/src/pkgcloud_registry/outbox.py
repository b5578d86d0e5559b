"""The outbox relay: publishes stored events in order, and forgets them only once the bus
has confirmed them. At least once: a crash after publish and before mark_sent republishes,
which consumers absorb because they dedupe by event id."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pkgcloud_servicekit.eventbus import EventBus
from pkgcloud_servicekit.events import decode
from prometheus_client import Counter, Gauge

from .store import RegistryStore

log = logging.getLogger(__name__)

PUBLISHED = Counter("pkgcloud_registry_outbox_published_total", "Outbox events published and confirmed")
FAILURES = Counter("pkgcloud_registry_outbox_publish_failures_total", "Outbox publish attempts that failed")
PENDING = Gauge("pkgcloud_registry_outbox_pending", "Outbox events found pending at the last relay pass")

_BATCH = 100


class OutboxRelay:
    def __init__(self, store: RegistryStore, bus: EventBus, poll_s: float = 1.0):
        self.store = store
        self.bus = bus
        self.poll_s = poll_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False

    def wake(self) -> None:
        """Called after each commit that stored an event."""
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Let a pass in progress mark what it published (cancelling it between publish and
        mark_sent would publish those events again after a restart), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), grace_s)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                FAILURES.inc()
                log.exception("outbox relay pass failed; retrying in %.1fs", self.poll_s)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)

    async def drain(self) -> int:
        """Publish every pending event in order; returns how many were sent. Stops at the
        first failure (raised) so that nothing is published out of order."""
        sent = 0
        while True:
            batch = await self.store.pending_events(_BATCH)
            PENDING.set(len(batch))
            if not batch:
                return sent
            done = []
            try:
                for pending in batch:
                    await self.bus.publish(decode(pending.payload))
                    done.append(pending)
            finally:
                # What the bus confirmed is marked even when a later publish failed.
                if done:
                    await self.store.mark_sent(done)
                    PUBLISHED.inc(len(done))
                    sent += len(done)
            if len(batch) < _BATCH:
                return sent
