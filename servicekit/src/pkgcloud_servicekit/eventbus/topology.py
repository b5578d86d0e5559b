"""Operator and test helpers for the RabbitMQ topology of RabbitMQEventBus.

    await delete_topology(url, "pkgcloud.events", "pkgcloud", ["index", "render"])
    await queue_depth(url, "pkgcloud.index.dead")
    await peek_dead_letters(url, "pkgcloud", "index")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import aio_pika
import aiormq
from pkgcloud_protos.v1 import events_pb2

from ..events import decode
from .partitions import members_queue_name
from .rabbitmq import ATTEMPTS_HEADER, ERROR_HEADER, SLOTS, partition_queue_names, queue_names


@dataclass(frozen=True)
class ParkedEvent:
    event: events_pb2.Event
    attempts: int
    error: str


async def delete_topology(url: str, exchange: str, queue_prefix: str, consumers: Iterable[str]) -> None:
    """Delete the exchange and each consumer's queues: main, retry and dead, and the
    partitions' and the members queue of a partitioned one (missing is fine).

    Deleting a queue drops its messages: this is for tests and for decommissioning."""
    conn = await aio_pika.connect(url)
    try:
        for consumer in consumers:
            names = [*queue_names(queue_prefix, consumer), members_queue_name(queue_prefix, consumer)]
            for k in range(SLOTS):
                names += partition_queue_names(queue_prefix, consumer, k)
            # one channel for all of them (deleting a missing queue is no error on RabbitMQ);
            # a fresh one only if the broker closed it
            ch = await conn.channel()
            for name in names:
                try:
                    await ch.queue_delete(name)
                except (aiormq.exceptions.ChannelNotFoundEntity, aio_pika.exceptions.ChannelClosed):
                    ch = await conn.channel()
            if not ch.is_closed:
                await ch.close()
        await _delete(conn, "exchange", exchange)
    finally:
        await conn.close()


async def _delete(conn: aio_pika.abc.AbstractConnection, kind: str, name: str) -> None:
    # A fresh channel per operation: a broker error closes the channel it happened on.
    ch = await conn.channel()
    try:
        if kind == "queue":
            await ch.queue_delete(name)
        else:
            await ch.exchange_delete(name)
    except (aiormq.exceptions.ChannelNotFoundEntity, aio_pika.exceptions.ChannelClosed):
        pass
    finally:
        if not ch.is_closed:
            await ch.close()


async def queue_depth(url: str, queue: str) -> int:
    """Messages ready in a queue (not counting unacked ones); -1 when it does not exist."""
    conn = await aio_pika.connect(url)
    try:
        ch = await conn.channel()
        try:
            q = await ch.declare_queue(queue, passive=True)
        except (aiormq.exceptions.ChannelNotFoundEntity, aio_pika.exceptions.ChannelClosed):
            return -1
        count = q.declaration_result.message_count
        await ch.close()
        return count
    finally:
        await conn.close()


async def peek_dead_letters(url: str, queue_prefix: str, consumer: str, limit: int = 1000) -> list[ParkedEvent]:
    """The events parked for a consumer, left in place (read without ack, then requeued)."""
    _, _, dead = queue_names(queue_prefix, consumer)
    conn = await aio_pika.connect(url)
    out: list[ParkedEvent] = []
    try:
        ch = await conn.channel()
        try:
            q = await ch.declare_queue(dead, passive=True)
        except (aiormq.exceptions.ChannelNotFoundEntity, aio_pika.exceptions.ChannelClosed):
            return out
        while len(out) < limit:
            msg = await q.get(no_ack=False, fail=False)
            if msg is None:
                break
            headers = msg.headers or {}
            out.append(
                ParkedEvent(
                    event=decode(msg.body),
                    attempts=int(headers.get(ATTEMPTS_HEADER, 0) or 0),
                    error=_text(headers.get(ERROR_HEADER, "")),
                )
            )
        # Closing the channel returns every unacked message to the queue, in order.
        await ch.close()
    finally:
        await conn.close()
    return out


def _text(value: object) -> str:
    return value.decode() if isinstance(value, (bytes, bytearray)) else str(value)
