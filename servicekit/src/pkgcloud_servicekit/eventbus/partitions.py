"""A consumer split into partitions by owner, each partition held by one replica at a time.

Every replica of consumer C joins P.C.members (a queue nothing is published to) as a
consumer, so the queue's consumer count is the number of live replicas R. Each replica
holds at most ceil(N / R) of the N partition queues, consuming each with an *exclusive*
consumer: the broker refuses a second one, so two replicas never handle one partition (and
so one owner) at once. Every `rebalance_interval_s` a replica recounts R, releases partitions
beyond its share (stop taking deliveries, let the running handler finish, close the
channel: unacked messages go back to the queue in order) and claims free ones up to it.

A replica that dies (or loses the broker) loses its consumers with its connection; the
others see R drop and the partitions free, and claim them at their next pass. The
partition consumers use a plain (not robust) connection of their own: after a broker
restart the replica reconnects at its next pass and claims again from scratch, instead of
a robust reconnect trying to restore exclusive consumers another replica may hold by then.

Upgrading from one shared queue (P.C, what partitions=0 and older versions use): the
events still in it are older than any in the partitions, so no replica claims a partition
while P.C exists. One replica (an exclusive consumer again) unbinds it from the exchange,
handles what is in it and in P.C.retry, then deletes both; the others wait for that. Events
published meanwhile wait in the partition queues.

Why not single-active-consumer queues: the broker makes the first registered consumer the
active one, so one replica would hold every partition and the others would only stand by
(docs/adr/0006).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import uuid

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection

from .interfaces import Handler
from .rabbitmq import SLOTS, RabbitMQEventBus, _Subscription, binding_key, partition_queue_names, queue_names

log = logging.getLogger(__name__)


def members_queue_name(queue_prefix: str, consumer: str) -> str:
    return f"{queue_prefix}.{consumer}.members"


class PartitionedConsumer:
    def __init__(self, bus: RabbitMQEventBus, consumer: str, routing_keys: list[str], handler: Handler):
        self.bus = bus
        self.consumer = consumer
        self.routing_keys = routing_keys
        self.handler = handler
        self.partitions = bus.partitions
        _, _, self.dead_queue = queue_names(bus.queue_prefix, consumer)
        self.members_queue = members_queue_name(bus.queue_prefix, consumer)
        self.held: dict[int, tuple[AbstractChannel, _Subscription]] = {}
        # where this replica starts looking for free partitions: replicas starting together
        # try different ones first
        self._offset = random.randrange(self.partitions)
        self._conn: AbstractConnection | None = None
        self._control: AbstractChannel | None = None
        self._task: asyncio.Task | None = None
        self._closed = False
        self._pass_lock = asyncio.Lock()
        self._legacy_done = False
        self._legacy: tuple[AbstractChannel, _Subscription] | None = None
        #: partitions claimed / released over this consumer's life (for tests and logs)
        self.claims = 0
        self.releases = 0

    async def start(self) -> None:
        await self._declare_topology()
        await self.rebalance()
        self._task = asyncio.create_task(self._loop(), name=f"partitions-{self.consumer}")

    async def _declare_topology(self) -> None:
        ch = self.bus._consume_channel
        assert ch is not None
        exchange = await self.bus._declare_exchange(ch)
        await ch.declare_queue(self.dead_queue, durable=True)
        await ch.declare_queue(self.members_queue, durable=True)
        for k in range(self.partitions):
            main, retry = partition_queue_names(self.bus.queue_prefix, self.consumer, k)
            await ch.declare_queue(retry, durable=True, arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": main})
            queue = await ch.declare_queue(main, durable=True)
            for slot in range(k, SLOTS, self.partitions):
                for key in self.routing_keys:
                    await queue.bind(exchange, f"{key}.s{slot}")

    async def _loop(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.bus.rebalance_interval_s)
            try:
                await self.rebalance()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("consumer %s: rebalancing partitions failed; retrying", self.consumer, exc_info=True)
                await self._drop_connection()

    async def _connection(self) -> AbstractConnection:
        if self._conn is None or self._conn.is_closed:
            await self._drop_connection()
            name = f"{self.bus.connection_name} partitions {self.consumer} {uuid.uuid4().hex[:6]}"
            conn = await aio_pika.connect(self.bus.url, client_properties={"connection_name": name})
            try:
                control = await conn.channel()
                members = await control.declare_queue(self.members_queue, passive=True)
                await members.consume(_never_called)
            except BaseException:
                await conn.close()
                raise
            self._conn, self._control = conn, control
        return self._conn

    async def _drop_connection(self) -> None:
        self.held.clear()
        conn, self._conn, self._control = self._conn, None, None
        if conn is not None and not conn.is_closed:
            with contextlib.suppress(Exception):
                await conn.close()

    async def rebalance(self) -> None:
        """One pass: recount the replicas, release partitions beyond this one's share,
        claim free ones up to it."""
        async with self._pass_lock:
            if self._closed:
                return
            conn = await self._connection()
            assert self._control is not None
            if not self._legacy_done:
                self._legacy_done = await self._drain_legacy(conn)
                if not self._legacy_done:
                    return
            for k, (ch, _) in list(self.held.items()):
                if ch.is_closed:
                    del self.held[k]
            members = await self._control.declare_queue(self.members_queue, passive=True)
            replicas = max(1, members.declaration_result.consumer_count)
            share = math.ceil(self.partitions / replicas)
            for k in sorted(self.held, key=self._preference, reverse=True)[share:]:
                await self._release(k)
            for k in sorted(range(self.partitions), key=self._preference):
                if len(self.held) >= share:
                    break
                if k not in self.held:
                    await self._claim(conn, k)

    async def _drain_legacy(self, conn: AbstractConnection) -> bool:
        """One step of emptying the old shared queue; True once it is gone."""
        main, retry, _ = queue_names(self.bus.queue_prefix, self.consumer)
        if self._legacy is not None:
            ch, sub = self._legacy
            if ch.is_closed:
                self._legacy = None
                return False
            if sub.inflight or await _depth(conn, main) or await _depth(conn, retry):
                return False
            await sub.cancel()
            await sub.drain()
            for name in (main, retry):
                await _delete_if_empty(conn, name)
            with contextlib.suppress(Exception):
                await ch.close()
            self._legacy = None
            gone = await _depth(conn, main) < 0
            if gone:
                log.info("consumer %s: drained and deleted the shared queue %s", self.consumer, main)
            return gone
        if await _depth(conn, main) < 0:
            return True
        ch = await conn.channel(publisher_confirms=True)
        try:
            await ch.set_qos(prefetch_count=self.bus.prefetch)
            queue = await ch.get_queue(main, ensure=False)
            exchange = await ch.get_exchange(self.bus.exchange_name, ensure=False)
            for key in self.routing_keys:  # nothing new reaches it (bound the old or the new way)
                for pattern in {key, binding_key(key)}:
                    await queue.unbind(exchange, pattern)
            sub = _Subscription(self.bus, self.consumer, self.handler, queue, retry, self.dead_queue, channel=ch)
            await sub.start(exclusive=True)
        except (aiormq.exceptions.ChannelAccessRefused, aio_pika.exceptions.ChannelClosed):
            with contextlib.suppress(Exception):
                await ch.close()
            return False  # another replica is draining it
        log.info("consumer %s: draining the shared queue %s before taking partitions", self.consumer, main)
        self._legacy = (ch, sub)
        return False

    def _preference(self, k: int) -> int:
        return (k - self._offset) % self.partitions

    async def _claim(self, conn: AbstractConnection, k: int) -> None:
        main, retry = partition_queue_names(self.bus.queue_prefix, self.consumer, k)
        assert self._control is not None
        info = await self._control.declare_queue(main, passive=True)
        if info.declaration_result.consumer_count:
            return  # held by another replica
        ch = await conn.channel(publisher_confirms=True)
        try:
            await ch.set_qos(prefetch_count=self.bus.prefetch)
            queue = await ch.get_queue(main, ensure=False)
            sub = _Subscription(self.bus, self.consumer, self.handler, queue, retry, self.dead_queue, channel=ch)
            await sub.start(exclusive=True)
        except (aiormq.exceptions.ChannelAccessRefused, aio_pika.exceptions.ChannelClosed):
            # another replica claimed it an instant before us: the broker closed the channel
            with contextlib.suppress(Exception):
                await ch.close()
            return
        self.held[k] = (ch, sub)
        self.claims += 1
        log.info("consumer %s: holding partition %d", self.consumer, k)

    async def _release(self, k: int) -> None:
        ch, sub = self.held.pop(k)
        await sub.cancel()
        await sub.drain()
        with contextlib.suppress(Exception):
            await ch.close()
        self.releases += 1
        log.info("consumer %s: released partition %d", self.consumer, k)

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        async with self._pass_lock:
            for k in list(self.held):
                await self._release(k)
            if self._legacy is not None:
                ch, sub = self._legacy
                self._legacy = None
                await sub.cancel()
                await sub.drain()
            await self._drop_connection()


async def _depth(conn: AbstractConnection, queue: str) -> int:
    """Messages ready in queue; -1 when it does not exist (on a throwaway channel: the broker
    closes the channel of a failed passive declare)."""
    ch = await conn.channel()
    try:
        return (await ch.declare_queue(queue, passive=True)).declaration_result.message_count
    except (aiormq.exceptions.ChannelNotFoundEntity, aio_pika.exceptions.ChannelClosed):
        return -1
    finally:
        if not ch.is_closed:
            await ch.close()


async def _delete_if_empty(conn: AbstractConnection, queue: str) -> None:
    ch = await conn.channel()
    try:
        await ch.queue_delete(queue, if_empty=True)
    except (aiormq.exceptions.ChannelPreconditionFailed, aiormq.exceptions.ChannelNotFoundEntity,
            aio_pika.exceptions.ChannelClosed):
        pass  # not empty after all (a retry came back): the next pass tries again
    finally:
        if not ch.is_closed:
            await ch.close()


async def _never_called(message: aio_pika.abc.AbstractIncomingMessage) -> None:
    # nothing is ever published to the members queue; requeue whatever an operator sends
    await message.nack(requeue=True)
