"""Partitioned consumers on RabbitMQ (issue 12): an owner's events are handled in order by
one replica at a time, partitions spread over the live replicas, and a replica that goes
hands its partitions to the others. Run-unique exchange and queues, deleted afterwards."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest
from pkgcloud_protos.v1 import common_pb2, events_pb2
from pkgcloud_servicekit.eventbus.rabbitmq import RabbitMQEventBus, owner_slot
from pkgcloud_servicekit.events import new_event

pytestmark = pytest.mark.rabbitmq

PARTITIONS = 4
OWNERS = [f"owner{i:02d}" for i in range(20)]


def numbered(owner: str, n: int) -> events_pb2.Event:
    return new_event(owner, file_committed=events_pb2.FileCommitted(file=common_pb2.FileRecord(basename=f"noarch/x-{n}-0.tar.bz2")))


def seq_of(event: events_pb2.Event) -> int:
    return int(event.file_committed.file.basename.split("-")[1])


def replica(harness, name: str) -> RabbitMQEventBus:
    bus = RabbitMQEventBus(
        harness.url, exchange=harness.exchange, queue_prefix=harness.queue_prefix, max_attempts=3, retry_delay_s=0.02,
        connection_name=f"pkgcloud-test-{harness.tag}-{name}", partitions=PARTITIONS, rebalance_interval_s=0.1,
    )
    harness.buses.append(bus)
    return bus


class Log:
    """What each replica handled, in the order it handled it."""

    def __init__(self) -> None:
        self.by_replica: dict[str, list[events_pb2.Event]] = defaultdict(list)
        self.in_order: list[events_pb2.Event] = []  # every replica's, as handled
        self.handling: dict[str, int] = defaultdict(int)  # owner -> handlers running now
        self.overlaps = 0

    def handler(self, name: str):
        async def handle(event: events_pb2.Event) -> None:
            self.handling[event.owner] += 1
            self.overlaps += self.handling[event.owner] > 1
            try:
                await asyncio.sleep(0.001)
                self.by_replica[name].append(event)
                self.in_order.append(event)
            finally:
                self.handling[event.owner] -= 1

        return handle

    def ids(self) -> set[str]:
        return {e.id for events in self.by_replica.values() for e in events}

    def per_owner(self, name: str) -> dict[str, list[int]]:
        out: dict[str, list[int]] = defaultdict(list)
        for e in self.by_replica[name]:
            out[e.owner].append(seq_of(e))
        return out


def held(bus: RabbitMQEventBus) -> set[int]:
    return set(bus._partitioned[0].held) if bus._partitioned else set()


async def test_owners_spread_over_partitions():
    assert len({owner_slot(o) % PARTITIONS for o in OWNERS}) == PARTITIONS


async def test_two_replicas_share_the_partitions_and_keep_each_owners_order(rabbitmq_harness, wait_until):
    log = Log()
    a, b = replica(rabbitmq_harness, "a"), replica(rabbitmq_harness, "b")
    await a.subscribe("index", ["file.*"], log.handler("a"))
    await b.subscribe("index", ["file.*"], log.handler("b"))
    await wait_until(lambda: len(held(a)) == len(held(b)) == PARTITIONS // 2, what="the partitions split evenly")
    assert held(a).isdisjoint(held(b))
    publisher = await rabbitmq_harness.new_bus()
    events = [numbered(owner, n) for n in range(10) for owner in OWNERS]
    for event in events:
        await publisher.publish(event)
    await wait_until(lambda: log.ids() == {e.id for e in events}, timeout=30, what="every event handled")
    assert sum(len(v) for v in log.by_replica.values()) == len(events)  # each once
    assert log.by_replica["a"] and log.by_replica["b"]  # both replicas worked
    owners_a, owners_b = log.per_owner("a"), log.per_owner("b")
    assert set(owners_a).isdisjoint(owners_b)  # an owner is one replica's
    for owner, seqs in {**owners_a, **owners_b}.items():
        assert seqs == list(range(10)), owner
    assert log.overlaps == 0


async def test_a_replica_that_goes_hands_its_owners_to_the_other(rabbitmq_harness, wait_until):
    log = Log()
    a, b = replica(rabbitmq_harness, "a"), replica(rabbitmq_harness, "b")
    await a.subscribe("index", ["file.*"], log.handler("a"))
    await b.subscribe("index", ["file.*"], log.handler("b"))
    await wait_until(lambda: len(held(a)) == len(held(b)) == PARTITIONS // 2, what="the partitions split evenly")
    publisher = await rabbitmq_harness.new_bus()
    events = [numbered(owner, n) for n in range(10) for owner in OWNERS]
    for event in events[:100]:
        await publisher.publish(event)
    # b goes: it stops rebalancing and its partition consumers' connection closes without
    # releasing anything (what the broker sees when the process dies), so a must take over
    part_b = b._partitioned[0]
    part_b._closed = True
    await part_b._drop_connection()
    await wait_until(lambda: len(held(a)) == PARTITIONS, what="a holding every partition")
    for event in events[100:]:
        await publisher.publish(event)
    await wait_until(lambda: log.ids() == {e.id for e in events}, timeout=30, what="every event handled")
    handled_after = log.per_owner("a")
    for owner in OWNERS:
        seqs = handled_after[owner]
        assert seqs == sorted(seqs), owner  # in order (a redelivered one may repeat)
        assert seqs[-1] == 9


async def test_delete_topology_removes_every_queue_of_a_partitioned_consumer(rabbitmq_harness):
    from pkgcloud_servicekit.eventbus.partitions import members_queue_name
    from pkgcloud_servicekit.eventbus.rabbitmq import partition_queue_names
    from pkgcloud_servicekit.eventbus.topology import delete_topology, queue_depth

    bus = replica(rabbitmq_harness, "a")
    await bus.subscribe("index", ["file.*"], Log().handler("a"))
    prefix = rabbitmq_harness.queue_prefix
    names = [members_queue_name(prefix, "index"), f"{prefix}.index.dead"]
    names += [q for k in range(PARTITIONS) for q in partition_queue_names(prefix, "index", k)]
    assert [await queue_depth(rabbitmq_harness.url, q) for q in names] == [0] * len(names)
    await bus.close()
    await delete_topology(rabbitmq_harness.url, rabbitmq_harness.exchange, prefix, ["index"])
    assert [await queue_depth(rabbitmq_harness.url, q) for q in names] == [-1] * len(names)


async def test_an_upgrade_from_the_shared_queue_handles_its_events_first(rabbitmq_harness, wait_until):
    # events left in the shared queue of the unpartitioned version (P.index) are older than
    # any in the partitions: they are handled first, then the shared queue is deleted
    from pkgcloud_servicekit.eventbus.topology import queue_depth

    old = RabbitMQEventBus(rabbitmq_harness.url, exchange=rabbitmq_harness.exchange, queue_prefix=rabbitmq_harness.queue_prefix)
    rabbitmq_harness.buses.append(old)
    await old.subscribe("index", ["file.*"], Log().handler("old"))
    await old.close()
    publisher = await rabbitmq_harness.new_bus()
    owners = OWNERS[:5]
    events = [numbered(owner, n) for n in range(20) for owner in owners]
    for event in events[:50]:  # left in the shared queue
        await publisher.publish(event)
    assert await queue_depth(rabbitmq_harness.url, f"{rabbitmq_harness.queue_prefix}.index") == 50
    log = Log()
    a, b = replica(rabbitmq_harness, "a"), replica(rabbitmq_harness, "b")
    await a.subscribe("index", ["file.*"], log.handler("a"))
    await b.subscribe("index", ["file.*"], log.handler("b"))
    for event in events[50:]:  # published during the upgrade: into the partitions
        await publisher.publish(event)
    await wait_until(lambda: log.ids() == {e.id for e in events}, timeout=30, what="every event handled")
    assert sum(len(v) for v in log.by_replica.values()) == len(events)
    assert log.overlaps == 0
    for owner in owners:  # the shared queue's events first, in order, then the partitions'
        assert [seq_of(e) for e in log.in_order if e.owner == owner] == list(range(20)), owner
    await wait_until(lambda: _gone(rabbitmq_harness), what="the shared queue deleted")


async def _gone(harness) -> bool:
    from pkgcloud_servicekit.eventbus.topology import queue_depth

    return await queue_depth(harness.url, f"{harness.queue_prefix}.index") == -1
