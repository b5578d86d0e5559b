"""RabbitMQEventBus: events on a durable topic exchange, one durable queue per consumer.

Topology per consumer name C (prefix P):
  P.C        durable queue bound to the exchange with C's routing keys; every process
             subscribing as C consumes from it (competing consumers)
  P.C.retry  durable queue without consumers; a failed delivery is republished here with a
             per-message TTL, and RabbitMQ dead-letters it back to P.C when the TTL expires
             (a delayed retry that blocks neither the consumer nor the events behind it)
  P.C.dead   durable queue where an event is parked after max_attempts failed deliveries

A broadcast subscription (subscribe(..., broadcast=True)) uses C.<random> instead and
declares the three queues exclusive: each process hears every event, and the broker deletes
its queues when its connection goes.

Partitioned by owner (`partitions=N`, N > 0; docs/adr/0006): an event's routing key is
`<type>.s<slot>`, slot = crc32(owner) mod 64 (SLOTS), so every subscription's patterns get a
trailing word (`file.*` binds as `file.*.*`). A partitioned consumer C has N queues P.C.p<k>
(each bound to the slots s with s mod N == k) with their retry queues P.C.p<k>.retry, and
one P.C.dead. Each partition queue is consumed by one replica at a time, exclusively
(see partitions.py): an owner's events are handled in order by one process, and partitions
spread over the live replicas and move when one goes.

An attempt counter travels in a message header. A failed message is republished (with
publisher confirms) before the original is acked, so a crash in between duplicates it at
worst; consumers are idempotent by event id. connect_robust reconnects after a broker
restart or a dropped connection and re-declares exchanges, queues, bindings and consumers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
import zlib

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from pkgcloud_protos.v1 import events_pb2

from ..events import decode, encode
from .interfaces import EventBus, Handler

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-pkgcloud-attempts"
ERROR_HEADER = "x-pkgcloud-last-error"
CONTENT_TYPE = "application/x-protobuf; messageType=pkgcloud.v1.Event"


#: Owners hash into this many slots; the slot is the routing key's last word. A partitioned
#: consumer's N partitions (N <= SLOTS) each take the slots s with s % N == k.
SLOTS = 64


def queue_names(queue_prefix: str, consumer: str) -> tuple[str, str, str]:
    """(main, retry, dead) queue names of a consumer."""
    main = f"{queue_prefix}.{consumer}"
    return main, f"{main}.retry", f"{main}.dead"


def partition_queue_names(queue_prefix: str, consumer: str, partition: int) -> tuple[str, str]:
    """(main, retry) queue names of one partition of a consumer (the dead queue is shared)."""
    main = f"{queue_prefix}.{consumer}.p{partition}"
    return main, f"{main}.retry"


def owner_slot(owner: str) -> int:
    """The slot of an owner: stable across processes and versions (not Python's hash)."""
    return zlib.crc32(owner.encode()) % SLOTS


def routing_key(event: events_pb2.Event) -> str:
    return f"{event.type}.s{owner_slot(event.owner)}"


def binding_key(pattern: str) -> str:
    """A subscription pattern as bound: one more word for the slot ('#' already matches it)."""
    return pattern if pattern == "#" or pattern.endswith(".#") else f"{pattern}.*"


class RabbitMQEventBus(EventBus):
    def __init__(
        self,
        url: str,
        exchange: str = "pkgcloud.events",
        queue_prefix: str = "pkgcloud",
        max_attempts: int = 5,
        *,
        prefetch: int = 16,
        retry_delay_s: float = 1.0,
        max_retry_delay_s: float = 30.0,
        reconnect_interval_s: float = 2.0,
        publish_timeout_s: float = 10.0,
        connection_name: str | None = None,
        partitions: int = 0,
        rebalance_interval_s: float = 1.0,
    ):
        """partitions=N > 0: each non-broadcast subscription is split into N partition
        queues by owner, each consumed by one replica at a time; 0: one queue per consumer,
        shared by its replicas (competing consumers, no per-owner order across replicas)."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= partitions <= SLOTS:
            raise ValueError(f"partitions must be between 0 and {SLOTS}")
        self.partitions = partitions
        self.rebalance_interval_s = rebalance_interval_s
        self.url = url
        self.exchange_name = exchange
        self.queue_prefix = queue_prefix
        self.max_attempts = max_attempts
        self.prefetch = prefetch
        self.retry_delay_s = retry_delay_s
        self.max_retry_delay_s = max_retry_delay_s
        self.reconnect_interval_s = reconnect_interval_s
        self.publish_timeout_s = publish_timeout_s
        # Shown in the management UI / rabbitmqctl; lets an operator (or a test) find and
        # close exactly this process's connection.
        self.connection_name = connection_name or f"pkgcloud {socket.gethostname()} pid={os.getpid()} {uuid.uuid4().hex[:8]}"
        self.consumers: set[str] = set()
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._consume_channel: AbstractChannel | None = None
        self._subscriptions: list[_Subscription] = []
        self._partitioned: list = []  # partitions.PartitionedConsumer
        self._start_lock = asyncio.Lock()
        self._closed = False
        #: times the robust connection came back after losing the broker
        self.reconnects = 0

    async def start(self) -> None:
        async with self._start_lock:
            if self._closed:
                raise RuntimeError("event bus is closed")
            if self._connection is not None:
                return
            conn = await aio_pika.connect_robust(
                self.url,
                reconnect_interval=self.reconnect_interval_s,
                client_properties={"connection_name": self.connection_name},
            )
            conn.reconnect_callbacks.add(self._on_reconnect)
            try:
                self._publish_channel = await conn.channel(publisher_confirms=True, on_return_raises=True)
                self._exchange = await self._declare_exchange(self._publish_channel)
                # Consumers get their own channel: its prefetch limit and a slow handler do not
                # touch publishing, and the retry/dead republishes are confirmed on it too.
                self._consume_channel = await conn.channel(publisher_confirms=True)
                await self._consume_channel.set_qos(prefetch_count=self.prefetch)
            except BaseException:
                await conn.close()
                raise
            self._connection = conn

    def _on_reconnect(self, *_: object) -> None:
        self.reconnects += 1
        log.warning("reconnected to RabbitMQ (%s); topology and consumers restored", self.connection_name)

    async def _declare_exchange(self, channel: AbstractChannel) -> AbstractExchange:
        return await channel.declare_exchange(self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True)

    async def close(self) -> None:
        self._closed = True
        conn, self._connection = self._connection, None
        if conn is None:
            return
        # Stop deliveries first, then let handlers that are running finish (and ack or
        # republish on the still-open channel); anything unacked is redelivered anyway.
        for part in self._partitioned:
            await part.close()
        self._partitioned.clear()
        for sub in self._subscriptions:
            await sub.cancel()
        for sub in self._subscriptions:
            await sub.drain()
        self._subscriptions.clear()
        self._exchange = self._publish_channel = self._consume_channel = None
        await conn.close()

    async def publish(self, event: events_pb2.Event) -> None:
        if self._exchange is None:
            await self.start()
        assert self._exchange is not None
        if not event.type:
            raise ValueError("event has no type (routing key)")
        message = aio_pika.Message(
            encode(event),
            message_id=event.id,
            type=event.type,
            content_type=CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        # Confirmed publish (the channel has publisher confirms): returns once the broker has
        # the message, raises otherwise. mandatory=True: an event no queue is bound for yet (a
        # consumer that has never started) comes back as an error, so the registry's outbox
        # keeps it and publishes it again later instead of the broker dropping it.
        await self._exchange.publish(message, routing_key=routing_key(event), mandatory=True, timeout=self.publish_timeout_s)

    async def subscribe(self, consumer: str, routing_keys: list[str], handler: Handler, *, broadcast: bool = False) -> None:
        if not consumer or "/" in consumer:
            raise ValueError(f"bad consumer name {consumer!r}")
        if not routing_keys:
            raise ValueError("subscribe needs at least one routing key")
        await self.start()
        assert self._consume_channel is not None
        ch = self._consume_channel
        if self.partitions and not broadcast:
            from .partitions import PartitionedConsumer

            part = PartitionedConsumer(self, consumer, routing_keys, handler)
            await part.start()
            self._partitioned.append(part)
            self.consumers.add(consumer)
            return
        if broadcast:
            consumer = f"{consumer}.{uuid.uuid4().hex[:12]}"
        main, retry, dead = queue_names(self.queue_prefix, consumer)
        # Declared on the consuming channel too, so a robust reconnect re-creates the
        # exchange before re-binding the queue to it.
        exchange = await self._declare_exchange(ch)
        # A broadcast subscription's three queues are exclusive to this connection, so the
        # broker deletes them when the process goes (the retry and dead queues have no
        # consumer, so auto-delete alone would never remove them).
        kind = {"durable": False, "exclusive": True} if broadcast else {"durable": True}
        await ch.declare_queue(dead, **kind)
        await ch.declare_queue(retry, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": main}, **kind)
        queue = await ch.declare_queue(main, **kind)
        for key in routing_keys:
            await queue.bind(exchange, binding_key(key))
        sub = _Subscription(self, consumer, handler, queue, retry, dead)
        await sub.start()
        self._subscriptions.append(sub)
        self.consumers.add(consumer)

    def _retry_delay(self, attempt: int) -> float:
        return min(self.retry_delay_s * 2 ** (attempt - 1), self.max_retry_delay_s)


class _Subscription:
    """One consumer on a consumer's queue; handles its deliveries one at a time (in order)."""

    def __init__(self, bus: RabbitMQEventBus, consumer: str, handler: Handler, queue: AbstractQueue, retry: str, dead: str,
                 channel: AbstractChannel | None = None):
        self.bus = bus
        # the channel the queue is consumed on (retries and dead letters are published on it)
        self.channel = channel
        self.consumer = consumer
        self.handler = handler
        self.queue = queue
        self.retry_queue = retry
        self.dead_queue = dead
        self.tag: str | None = None
        # aio-pika runs each delivery in its own task; a lock keeps one handler call at a
        # time so events are handled in queue order while prefetch keeps the next ones ready.
        self._lock = asyncio.Lock()
        #: deliveries received and not settled yet (running or waiting for the lock)
        self.inflight = 0

    async def start(self, *, exclusive: bool = False) -> None:
        self.tag = await self.queue.consume(self._on_message, exclusive=exclusive)

    async def cancel(self) -> None:
        if self.tag is None:
            return
        try:
            await self.queue.cancel(self.tag)
        except Exception:
            log.debug("cancelling consumer %s failed", self.consumer, exc_info=True)
        self.tag = None

    async def drain(self, timeout: float = 10.0) -> None:
        try:
            await asyncio.wait_for(self._lock.acquire(), timeout)
        except TimeoutError:
            log.warning("consumer %s: a handler was still running at close", self.consumer)
            return
        self._lock.release()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self.inflight += 1
        try:
            await self._on_message_locked(message)
        finally:
            self.inflight -= 1

    async def _on_message_locked(self, message: AbstractIncomingMessage) -> None:
        async with self._lock:
            if self.tag is None:
                # Cancelled while waiting for the lock: leave it to another consumer.
                await _settle(message.nack(requeue=True))
                return
            try:
                await self._handle(message)
            except Exception:
                # Most likely the channel went away mid-way: the unacked message will be
                # redelivered after the reconnect.
                log.warning("consumer %s: could not settle message %s", self.consumer, message.message_id, exc_info=True)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        headers = dict(message.headers or {})
        attempt = int(headers.get(ATTEMPTS_HEADER, 0) or 0) + 1
        try:
            event = decode(message.body)
        except Exception as exc:
            # Retrying cannot fix bytes that do not parse.
            await self._park(message, headers, attempt, f"undecodable: {exc!r}")
            return
        try:
            await self.handler(event)
        except Exception as exc:
            if attempt >= self.bus.max_attempts:
                log.error(
                    "event %s (%s) dead-lettered for consumer %s after %d attempts: %r",
                    event.id, event.type, self.consumer, attempt, exc,
                )
                await self._park(message, headers, attempt, repr(exc))
            else:
                log.warning(
                    "consumer %s failed on event %s (%s), attempt %d/%d: %r",
                    self.consumer, event.id, event.type, attempt, self.bus.max_attempts, exc,
                )
                await self._republish(message, headers, attempt, repr(exc), self.retry_queue, self.bus._retry_delay(attempt))
            return
        await message.ack()

    async def _park(self, message: AbstractIncomingMessage, headers: dict, attempt: int, error: str) -> None:
        await self._republish(message, headers, attempt, error, self.dead_queue, None)

    async def _republish(
        self, message: AbstractIncomingMessage, headers: dict, attempt: int, error: str, queue: str, delay_s: float | None
    ) -> None:
        headers = {k: v for k, v in headers.items() if k != "x-death"}
        headers[ATTEMPTS_HEADER] = attempt
        headers[ERROR_HEADER] = error[:1000]
        copy = aio_pika.Message(
            message.body,
            headers=headers,
            message_id=message.message_id,
            type=message.type,
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            expiration=delay_s,
        )
        channel = self.channel or self.bus._consume_channel
        assert channel is not None
        # Confirmed (the consuming channel has publisher confirms) before the ack below.
        await channel.default_exchange.publish(copy, routing_key=queue, timeout=self.bus.publish_timeout_s)
        await message.ack()


async def _settle(awaitable) -> None:
    try:
        await awaitable
    except Exception:
        log.debug("settling a message failed", exc_info=True)
