"""render-svc's subscription to registry events."""

from __future__ import annotations

import logging

from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit.eventbus import EventBus
from pkgcloud_servicekit.logs import request_id_var, service_var

from .converters import incoming_event
from .core import RenderCore

log = logging.getLogger(__name__)

CONSUMER_NAME = "render"
ROUTING_KEYS = ["file.*", "package.*"]


class RenderEventConsumer:
    """Records each delivered event once.

    A handler that returns acks the delivery; one that raises has it redelivered (and
    dead-lettered after the bus's max attempts), so a failure never loses an event and a
    redelivery of an applied one is a no-op.
    """

    def __init__(self, bus: EventBus, core: RenderCore):
        self.bus = bus
        self.core = core
        self._stopped = False

    async def start(self) -> None:
        await self.bus.subscribe(CONSUMER_NAME, ROUTING_KEYS, self.handle)

    def stop(self) -> None:
        # The bus has no unsubscribe; refusing later deliveries leaves them for redelivery
        # (to this consumer's next start, or another replica) instead of touching a closed store.
        self._stopped = True

    async def handle(self, event: events_pb2.Event) -> None:
        rid_token = request_id_var.set(event.request_id or "-")
        svc_token = service_var.set("render")
        try:
            if self._stopped:
                raise RuntimeError("render consumer is stopped; leaving the event for redelivery")
            try:
                incoming = incoming_event(event)
                applied = await self.core.apply(incoming)
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
