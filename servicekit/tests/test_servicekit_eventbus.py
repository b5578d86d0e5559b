"""The EventBus contract, run against every implementation (in-process, RabbitMQ), plus what
only a broker can show: durability while nobody consumes, and recovery from a dropped
connection. Each RabbitMQ test has its own exchange and queue prefix, deleted afterwards."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from pkgcloud_protos.v1 import common_pb2, events_pb2
from pkgcloud_servicekit.eventbus import EventBus
from pkgcloud_servicekit.eventbus.inprocess import topic_matches
from pkgcloud_servicekit.eventbus.rabbitmq import owner_slot, partition_queue_names
from pkgcloud_servicekit.eventbus.topology import queue_depth
from pkgcloud_servicekit.events import new_event


def committed(owner: str = "alice", basename: str = "noarch/x-1-0.tar.bz2") -> events_pb2.Event:
    return new_event(owner, file_committed=events_pb2.FileCommitted(file=common_pb2.FileRecord(basename=basename)))


def of_type(routing_key: str) -> events_pb2.Event:
    builders = {
        "file.committed": lambda: committed(),
        "file.labels_changed": lambda: new_event("alice", file_labels_changed=events_pb2.FileLabelsChanged(previous_labels=["dev"])),
        "package.removed": lambda: new_event("alice", package_removed=events_pb2.PackageRemoved(package="x")),
        "token.revoked": lambda: new_event("alice", token_revoked=events_pb2.TokenRevoked(login="alice")),
    }
    return builders[routing_key]()


class Recorder:
    def __init__(self, fail_times: int = 0, poison: set[str] | None = None):
        self.events: list[events_pb2.Event] = []
        self.calls: Counter[str] = Counter()
        self.fail_times = fail_times
        self.poison = poison or set()

    async def __call__(self, event: events_pb2.Event) -> None:
        self.calls[event.id] += 1
        if event.id in self.poison:
            raise RuntimeError(f"poison {event.id}")
        if self.calls[event.id] <= self.fail_times:
            raise RuntimeError("transient failure")
        self.events.append(event)

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.events]


async def test_satisfies_the_interface(bus_harness):
    assert isinstance(await bus_harness.new_bus(), EventBus)


async def test_published_event_is_delivered_and_decoded(bus_harness, wait_until):
    bus = await bus_harness.new_bus()
    rec = Recorder()
    await bus.subscribe("index", ["file.committed"], rec)
    event = committed("alice", "linux-64/numpy-1.0-0.tar.bz2")
    event.request_id = "req-1"
    await bus.publish(event)
    await wait_until(lambda: len(rec.events) == 1, what="delivery")
    got = rec.events[0]
    assert got == event
    assert got.WhichOneof("payload") == "file_committed"
    assert got.file_committed.file.basename == "linux-64/numpy-1.0-0.tar.bz2"


@pytest.mark.parametrize(
    "pattern,key,expected",
    [
        ("file.*", "file.committed", True),
        ("file.*", "file.labels.changed", False),
        ("file.#", "file.labels.changed", True),
        ("file.#", "file", True),
        ("#", "anything.at.all", True),
        ("*.committed", "file.committed", True),
        ("*", "file.committed", False),
        ("a.#.z", "a.z", True),
        ("a.#.z", "a.b.c.z", True),
        ("a.#.z", "a.b.c", False),
        ("package.removed", "package.removed", True),
        ("package.removed", "package.removed.x", False),
    ],
)
def test_topic_pattern_semantics(pattern, key, expected):
    assert topic_matches(pattern, key) is expected


async def test_topic_patterns_route_to_the_right_consumers(bus_harness, wait_until):
    bus = await bus_harness.new_bus()
    recs = {name: Recorder() for name in ("files", "all", "removals", "commits", "tokens")}
    await bus.subscribe("files", ["file.*"], recs["files"])
    await bus.subscribe("all", ["#"], recs["all"])
    await bus.subscribe("removals", ["package.removed", "file.removed"], recs["removals"])
    await bus.subscribe("commits", ["*.committed"], recs["commits"])
    await bus.subscribe("tokens", ["token.revoked"], recs["tokens"])
    sent = {key: of_type(key) for key in ("file.committed", "file.labels_changed", "package.removed", "token.revoked")}
    for ev in sent.values():
        await bus.publish(ev)
    await wait_until(lambda: len(recs["all"].events) == 4, what="the catch-all consumer")
    expected = {
        "files": {"file.committed", "file.labels_changed"},
        "all": set(sent),
        "removals": {"package.removed"},
        "commits": {"file.committed"},
        "tokens": {"token.revoked"},
    }
    await wait_until(
        lambda: all({e.type for e in recs[n].events} == types for n, types in expected.items()), what="routing"
    )
    await asyncio.sleep(0.2)  # nothing else trickles in
    for name, types in expected.items():
        assert sorted(e.type for e in recs[name].events) == sorted(types), name


async def test_an_event_matching_two_patterns_of_one_consumer_arrives_once(bus_harness, wait_until):
    bus = await bus_harness.new_bus()
    rec = Recorder()
    await bus.subscribe("index", ["file.*", "#"], rec)
    ev = committed()
    await bus.publish(ev)
    await wait_until(lambda: rec.ids == [ev.id])
    await asyncio.sleep(0.2)
    assert rec.calls[ev.id] == 1


async def test_a_transient_failure_is_retried_and_acked_once(bus_harness, wait_until):
    bus = await bus_harness.new_bus()
    rec = Recorder(fail_times=1)
    await bus.subscribe("index", ["file.*"], rec)
    ev = committed()
    await bus.publish(ev)
    await wait_until(lambda: rec.ids == [ev.id], what="the retried delivery")
    await asyncio.sleep(0.3)  # an unacked or doubly queued message would come back by now
    assert rec.calls[ev.id] == 2
    assert rec.ids == [ev.id]
    assert await bus_harness.dead_letter_ids("index") == []
    if bus_harness.kind == "rabbitmq":
        prefix = bus_harness.queue_prefix
        queues = [f"{prefix}.index", f"{prefix}.index.retry"]
        if bus_harness.partitions:
            queues = list(partition_queue_names(prefix, "index", owner_slot(ev.owner) % bus_harness.partitions))
        for queue in (*queues, f"{prefix}.index.dead"):
            assert await queue_depth(bus_harness.url, queue) == 0, queue


async def test_a_poison_event_is_dead_lettered_without_blocking_the_others(bus_harness, wait_until):
    bus = await bus_harness.new_bus()
    poison = committed(basename="noarch/poison-1-0.tar.bz2")
    good = [committed(basename=f"noarch/ok{i}-1-0.tar.bz2") for i in range(5)]
    rec = Recorder(poison={poison.id})
    await bus.subscribe("index", ["file.committed"], rec)
    await bus.publish(poison)
    for ev in good:
        await bus.publish(ev)
    await wait_until(lambda: sorted(rec.ids) == sorted(e.id for e in good), what="the good events")

    async def parked():
        return await bus_harness.dead_letter_ids("index") == [poison.id]

    await wait_until(parked, what="the poison event in the dead-letter place")
    await asyncio.sleep(0.2)
    assert rec.calls[poison.id] == 3  # max_attempts of the harness
    assert all(rec.calls[e.id] == 1 for e in good)
    # later events still flow
    late = committed(basename="noarch/late-1-0.tar.bz2")
    await bus.publish(late)
    await wait_until(lambda: late.id in rec.ids, what="an event after the poison")


async def test_a_poison_event_is_dead_lettered_only_for_the_consumer_that_fails(bus_harness, wait_until):
    bus = await bus_harness.new_bus()
    ev = committed()
    failing, fine = Recorder(poison={ev.id}), Recorder()
    await bus.subscribe("render", ["file.committed"], failing)
    await bus.subscribe("index", ["file.committed"], fine)
    await bus.publish(ev)
    await wait_until(lambda: fine.ids == [ev.id])

    async def parked():
        return await bus_harness.dead_letter_ids("render") == [ev.id]

    await wait_until(parked, what="the dead letter of render")
    assert await bus_harness.dead_letter_ids("index") == []


async def test_competing_consumers_share_the_work(bus_harness, wait_until):
    # two "processes" subscribing under one consumer name: each event handled by one of them
    # (events of 20 owners: a partitioned bus gives each owner's events to one of them)
    first, second = await bus_harness.new_bus(), await bus_harness.new_bus()
    rec1, rec2 = Recorder(), Recorder()
    await first.subscribe("index", ["file.committed"], rec1)
    await second.subscribe("index", ["file.committed"], rec2)
    if getattr(bus_harness, "partitions", 0):
        await wait_until(lambda: len(first._partitioned[0].held) == len(second._partitioned[0].held) == 2,
                         what="the partitions split")
    sent = [committed(owner=f"owner{i:02d}", basename=f"noarch/p{i}-1-0.tar.bz2") for i in range(20)]
    for ev in sent:
        await first.publish(ev)
    await wait_until(lambda: len(rec1.ids) + len(rec2.ids) == 20, what="all events handled")
    await asyncio.sleep(0.2)
    handled = rec1.ids + rec2.ids
    assert sorted(handled) == sorted(e.id for e in sent)  # every event exactly once
    assert rec1.ids and rec2.ids  # and both took part


async def test_a_consumer_handles_its_events_one_at_a_time_in_order(bus_harness, wait_until):
    bus = await bus_harness.new_bus()
    running, max_running, order = 0, 0, []

    async def handler(ev):
        nonlocal running, max_running
        running += 1
        max_running = max(max_running, running)
        await asyncio.sleep(0.01)
        order.append(ev.id)
        running -= 1

    await bus.subscribe("index", ["file.committed"], handler)
    sent = [committed(basename=f"noarch/o{i}-1-0.tar.bz2") for i in range(10)]
    for ev in sent:
        await bus.publish(ev)
    await wait_until(lambda: len(order) == 10)
    assert order == [e.id for e in sent]
    assert max_running == 1


# --- RabbitMQ only ---------------------------------------------------------------------
@pytest.mark.rabbitmq
async def test_events_published_while_nobody_consumes_wait_in_the_queue(rabbitmq_harness, wait_until):
    # the consumer's queue exists (it subscribed once), then its process stops
    gone = await rabbitmq_harness.new_bus()
    await gone.subscribe("index", ["file.*"], Recorder())
    await gone.close()

    publisher = await rabbitmq_harness.new_bus()
    sent = [committed(basename=f"noarch/d{i}-1-0.tar.bz2") for i in range(3)]
    for ev in sent:
        await publisher.publish(ev)
    await publisher.close()

    back = await rabbitmq_harness.new_bus()
    rec = Recorder()
    await back.subscribe("index", ["file.*"], rec)
    await wait_until(lambda: rec.ids == [e.id for e in sent], what="the stored events")


@pytest.mark.rabbitmq
async def test_delivery_resumes_after_the_broker_drops_the_connection(rabbitmq_harness, wait_until, drop_rabbitmq_connection):
    bus = rabbitmq_harness.make_bus()
    await bus.start()
    rec = Recorder()
    await bus.subscribe("index", ["file.*"], rec)
    before = committed(basename="noarch/before-1-0.tar.bz2")
    await bus.publish(before)
    await wait_until(lambda: rec.ids == [before.id])

    assert await asyncio.to_thread(drop_rabbitmq_connection, bus.connection_name) == 1
    await wait_until(lambda: bus.reconnects >= 1, timeout=20, what="the reconnect")

    # as the outbox relay does: a publish that fails during the outage is tried again
    after = committed(basename="noarch/after-1-0.tar.bz2")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        try:
            await bus.publish(after)
            break
        except Exception:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)
    await wait_until(lambda: after.id in rec.ids, timeout=20, what="delivery after the reconnect")
    assert rec.calls[before.id] == 1


@pytest.mark.rabbitmq
async def test_an_event_in_flight_when_the_connection_drops_is_redelivered(rabbitmq_harness, wait_until, drop_rabbitmq_connection):
    bus = rabbitmq_harness.make_bus()
    await bus.start()
    release = asyncio.Event()
    calls: list[str] = []
    done: list[str] = []

    async def handler(ev):
        calls.append(ev.id)
        if len(calls) == 1:
            await release.wait()  # still handling when the broker goes away: never acked
        done.append(ev.id)

    await bus.subscribe("index", ["file.*"], handler)
    ev = committed()
    await bus.publish(ev)
    await wait_until(lambda: len(calls) == 1)
    assert await asyncio.to_thread(drop_rabbitmq_connection, bus.connection_name) == 1
    await wait_until(lambda: bus.reconnects >= 1, timeout=20, what="the reconnect")
    release.set()
    await wait_until(lambda: len(calls) == 2, timeout=20, what="the redelivery")
    # the interrupted call may finish or be cancelled with its channel; the redelivered one
    # completes and is acked (at least once: consumers are idempotent by event id)
    await wait_until(lambda: ev.id in done)
    assert calls == [ev.id, ev.id]
    await asyncio.sleep(0.2)
    assert len(calls) == 2
    assert await queue_depth(rabbitmq_harness.url, f"{rabbitmq_harness.queue_prefix}.index") == 0


async def test_broadcast_subscribers_each_get_every_event(bus_harness, wait_until):
    # two gateway processes' credential caches: each must hear every revocation
    first, second = await bus_harness.new_bus(), await bus_harness.new_bus()
    rec1, rec2 = Recorder(), Recorder()
    await first.subscribe("gateway", ["token.revoked"], rec1, broadcast=True)
    await second.subscribe("gateway", ["token.revoked"], rec2, broadcast=True)
    sent = [of_type("token.revoked") for _ in range(3)]
    for ev in sent:
        await first.publish(ev)
    await wait_until(lambda: len(rec1.ids) == 3 and len(rec2.ids) == 3, what="every event in both processes")
    assert rec1.ids == rec2.ids == [e.id for e in sent]
