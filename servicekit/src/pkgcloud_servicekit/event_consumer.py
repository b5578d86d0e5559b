"""A service's subscription to domain events, applied at most once each.

A handler that returns acks the delivery; one that raises has it redelivered (and
dead-lettered after the bus's max attempts), so a failure never loses an event, and the
service's own `apply` decides (by event id) that a redelivery of an applied one is a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from pkgcloud_protos.v1 import events_pb2

from .eventbus import EventBus
from .logs import request_id_var, service_var

log = logging.getLogger(__name__)

Apply = Callable[[events_pb2.Event], Awaitable[bool]]


class IdempotentEventConsumer:
    def __init__(self, bus: EventBus, name: str, routing_keys: list[str], apply: Apply):
        """apply(event) applies it and returns False when it had been applied already."""
        self.bus = bus
        self.name = name
        self.routing_keys = routing_keys
        self._apply = apply
        self._stopped = False

    async def start(self) -> None:
        await self.bus.subscribe(self.name, self.routing_keys, self.handle)

    def stop(self) -> None:
        # The bus has no unsubscribe; refusing later deliveries leaves them for redelivery
        # (to this consumer's next start, or another replica) instead of touching a closed store.
        self._stopped = True

    async def handle(self, event: events_pb2.Event) -> None:
        rid_token = request_id_var.set(event.request_id or "-")
        svc_token = service_var.set(self.name)
        try:
            if self._stopped:
                raise RuntimeError(f"{self.name} consumer is stopped; leaving the event for redelivery")
            try:
                applied = await self._apply(event)
            except Exception:
                log.exception("applying event %s (%s) for %s failed", event.id, event.type, event.owner)
                raise
            log.info(
                "%s event %s (%s) for %s",
                "applied" if applied else "skipped already-applied",
                event.id,
                event.type,
                event.owner,
                extra={"fields": {"event_id": event.id, "event_type": event.type, "owner": event.owner, "duplicate": not applied}},
            )
        finally:
            service_var.reset(svc_token)
            request_id_var.reset(rid_token)
