"""The event bus contract. Implementations: InProcessEventBus (all-in-one), RabbitMQEventBus."""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable

from pkgcloud_protos.v1 import events_pb2

Handler = Callable[[events_pb2.Event], Awaitable[None]]


class EventBus(abc.ABC):
    """Publish is confirmed (returns once the broker or every in-process consumer has it);
    delivery is at least once; a consumer acks only after its handler succeeds and is
    expected to be idempotent by event id. After `max_attempts` failed deliveries an event
    goes to the consumer's dead-letter place instead of blocking the others."""

    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def publish(self, event: events_pb2.Event) -> None:
        """Publish with the event's `type` as routing key; raises if not confirmed."""

    @abc.abstractmethod
    async def subscribe(self, consumer: str, routing_keys: list[str], handler: Handler, *, broadcast: bool = False) -> None:
        """Deliver matching events (topic patterns like 'file.*' or '#') to handler.
        One durable queue per consumer name; several processes with the same name share it.

        broadcast=True instead gives this subscription a queue of its own that lives only as
        long as the process: every process subscribing under the name gets every event, and
        events published while none is running are not kept (cache invalidation, where each
        replica must hear each event and a restarted one starts with an empty cache)."""
