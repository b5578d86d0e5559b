"""InProcessEventBus: the all-in-one's event bus, with RabbitMQ's delivery semantics in memory.

publish() awaits every matching consumer's handler (retrying with a short backoff, then
dead-lettering) before it returns. The registry's outbox relay marks an event sent only once
publish() returns, so a crash mid-delivery leaves the event in the outbox to be published
again on restart: nothing is lost even though nothing here is durable.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field

from pkgcloud_protos.v1 import events_pb2

from .interfaces import EventBus, Handler

log = logging.getLogger(__name__)

_broadcast_ids = itertools.count(1)


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: '*' is exactly one word, '#' zero or more words."""
    return _match(pattern.split("."), routing_key.split("."))


def _match(pat: list[str], words: list[str]) -> bool:
    if not pat:
        return not words
    head, rest = pat[0], pat[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    if head == "*" or head == words[0]:
        return _match(rest, words[1:])
    return False


@dataclass
class DeadLetter:
    consumer: str
    event: events_pb2.Event
    error: str
    attempts: int


@dataclass
class _Consumer:
    name: str
    patterns: list[str] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)
    _turn: itertools.count = field(default_factory=itertools.count)

    def matches(self, routing_key: str) -> bool:
        return any(topic_matches(p, routing_key) for p in self.patterns)

    def next_handler(self) -> Handler:
        # Several subscriptions under one name compete for events, as processes sharing a
        # RabbitMQ queue do: round-robin, and a retry goes to the next one.
        return self.handlers[next(self._turn) % len(self.handlers)]


class InProcessEventBus(EventBus):
    def __init__(self, max_attempts: int = 5, *, retry_delay_s: float = 0.05, max_retry_delay_s: float = 1.0):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self.retry_delay_s = retry_delay_s
        self.max_retry_delay_s = max_retry_delay_s
        self._consumers: dict[str, _Consumer] = {}
        self.dead_letters: list[DeadLetter] = []
        self._closed = False

    async def start(self) -> None:
        self._closed = False

    async def close(self) -> None:
        self._closed = True

    async def subscribe(self, consumer: str, routing_keys: list[str], handler: Handler, *, broadcast: bool = False) -> None:
        if not consumer:
            raise ValueError("consumer name must not be empty")
        if broadcast:
            # A consumer of its own, as a process-private queue would be.
            consumer = f"{consumer}#{next(_broadcast_ids)}"
        c = self._consumers.setdefault(consumer, _Consumer(consumer))
        for key in routing_keys:
            if key not in c.patterns:
                c.patterns.append(key)
        c.handlers.append(handler)

    async def publish(self, event: events_pb2.Event) -> None:
        if self._closed:
            raise RuntimeError("event bus is closed")
        if not event.type:
            raise ValueError("event has no type (routing key)")
        targets = [c for c in self._consumers.values() if c.matches(event.type)]
        if targets:
            await asyncio.gather(*(self._deliver(c, event) for c in targets))

    async def _deliver(self, consumer: _Consumer, event: events_pb2.Event) -> None:
        for attempt in range(1, self.max_attempts + 1):
            # Each consumer gets its own copy, as each queue gets its own message.
            copy = events_pb2.Event()
            copy.CopyFrom(event)
            try:
                await consumer.next_handler()(copy)
                return
            except Exception as exc:
                if attempt >= self.max_attempts:
                    self.dead_letters.append(DeadLetter(consumer.name, copy, repr(exc), attempt))
                    log.error(
                        "event %s (%s) dead-lettered for consumer %s after %d attempts: %r",
                        event.id, event.type, consumer.name, attempt, exc,
                    )
                    return
                log.warning(
                    "consumer %s failed on event %s (%s), attempt %d/%d: %r",
                    consumer.name, event.id, event.type, attempt, self.max_attempts, exc,
                )
                await asyncio.sleep(min(self.retry_delay_s * 2 ** (attempt - 1), self.max_retry_delay_s))
