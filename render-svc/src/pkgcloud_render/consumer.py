"""render-svc's subscription to registry events."""

from __future__ import annotations

from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit.event_consumer import IdempotentEventConsumer
from pkgcloud_servicekit.eventbus import EventBus

from .converters import incoming_event
from .core import RenderCore

CONSUMER_NAME = "render"
ROUTING_KEYS = ["file.*", "package.*"]


class RenderEventConsumer(IdempotentEventConsumer):
    """Turns each delivered event into changes and applies it once."""

    def __init__(self, bus: EventBus, core: RenderCore):
        self.core = core

        async def apply(event: events_pb2.Event) -> bool:
            return await core.apply(incoming_event(event))

        super().__init__(bus, CONSUMER_NAME, ROUTING_KEYS, apply)
