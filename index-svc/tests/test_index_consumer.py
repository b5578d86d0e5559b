"""index-svc's consumer on a real InProcessEventBus: each event applied once, whatever the
redeliveries."""

from __future__ import annotations

import json
import logging

import pytest
from pkgcloud_index.consumer import CONSUMER_NAME, IndexEventConsumer
from pkgcloud_index.core import IndexCore
from pkgcloud_index.metrics import EVENTS
from pkgcloud_protos.v1 import common_pb2, events_pb2
from pkgcloud_servicekit.eventbus.inprocess import InProcessEventBus
from pkgcloud_servicekit.events import new_event
from pkgcloud_servicekit.logs import request_id_var


def rec(owner, package, version, basename, *, labels=("main",), public=True, type="conda") -> common_pb2.FileRecord:
    return common_pb2.FileRecord(
        owner=owner, package=package, version=version, basename=basename, type=type,
        subdir=basename.split("/")[0] if "/" in basename else "", labels=list(labels),
        size=len(basename), sha256=f"{len(basename):064x}", attrs_json=json.dumps({"name": package}),
        package_public=public,
    )


def committed(r: common_pb2.FileRecord) -> events_pb2.Event:
    return new_event(r.owner, file_committed=events_pb2.FileCommitted(file=r))


def twenty_events() -> list[events_pb2.Event]:
    np10 = rec("alice", "numpy", "1.0", "linux-64/numpy-1.0-0.tar.bz2")
    np10osx = rec("alice", "numpy", "1.0", "osx-64/numpy-1.0-0.tar.bz2")
    np20 = rec("alice", "numpy", "2.0", "linux-64/numpy-2.0-0.tar.bz2")
    sp = rec("alice", "scipy", "1.0", "noarch/scipy-1.0-py_0.conda")
    nb = rec("alice", "demo", "1", "demo.ipynb", type="ipynb", labels=())
    g1 = rec("alice", "gone", "1", "noarch/gone-1-0.tar.bz2")
    g2 = rec("alice", "gone", "2", "noarch/gone-2-0.tar.bz2")
    b = [rec("bob", "tool", f"{i}.0", f"tool-{i}.0.tar.gz", type="pypi", labels=()) for i in range(5)]
    sp_private = rec("alice", "scipy", "1.0", "noarch/scipy-1.0-py_0.conda", public=False)
    np20_dev = rec("alice", "numpy", "2.0", "linux-64/numpy-2.0-0.tar.bz2", labels=("dev",))
    events = [
        committed(np10), committed(np10osx), committed(np20), committed(sp), committed(nb),
        committed(g1), committed(g2),
        *(committed(r) for r in b),
        new_event("alice", file_labels_changed=events_pb2.FileLabelsChanged(file=np20_dev, previous_labels=["main"])),
        new_event("alice", file_removed=events_pb2.FileRemoved(file=np10osx)),
        new_event("alice", package_privacy_changed=events_pb2.PackagePrivacyChanged(package="scipy", public=False, files=[sp_private])),
        new_event("alice", package_removed=events_pb2.PackageRemoved(package="gone", files=[g1, g2])),
        new_event("bob", file_removed=events_pb2.FileRemoved(file=b[0])),
        new_event("bob", package_privacy_changed=events_pb2.PackagePrivacyChanged(package="tool", public=False)),
        # types index-svc does not act on are still recorded, so status shows them
        new_event("carol", file_committed=events_pb2.FileCommitted(file=rec("carol", "x", "1", "x.txt", type="file"))),
        new_event("carol", package_privacy_changed=events_pb2.PackagePrivacyChanged(package="x", public=True)),
    ]
    for i, ev in enumerate(events):
        ev.request_id = f"req-{i}"
    assert len(events) == 20
    return events


EXPECTED_ALICE = [
    # (package, version, basename, labels, public)
    ("demo", "1", "demo.ipynb", (), True),
    ("numpy", "1.0", "linux-64/numpy-1.0-0.tar.bz2", ("main",), True),
    ("numpy", "2.0", "linux-64/numpy-2.0-0.tar.bz2", ("dev",), True),
    ("scipy", "1.0", "noarch/scipy-1.0-py_0.conda", ("main",), False),
]
EXPECTED_BOB = [("tool", f"{i}.0", f"tool-{i}.0.tar.gz", (), False) for i in range(1, 5)]


def summary(files):
    return [(f.package, f.version, f.basename, f.labels, f.public) for f in files]


@pytest.fixture
async def wired(index_store):
    bus = InProcessEventBus(max_attempts=3, retry_delay_s=0.001)
    await bus.start()
    core = IndexCore(index_store, clock=lambda: 1234.5)
    consumer = IndexEventConsumer(bus, core)
    await consumer.start()
    yield bus, core, consumer
    consumer.stop()
    await bus.close()


def counter(result: str) -> float:
    return EVENTS.labels(result)._value.get()


async def test_twenty_events_applied_once_each_and_redelivery_changes_nothing(wired, index_store):
    bus, core, _ = wired
    events = twenty_events()
    applied_before, dup_before = counter("applied"), counter("duplicate")
    for ev in events:
        await bus.publish(ev)
    assert bus.dead_letters == []
    assert counter("applied") - applied_before == 20
    assert all([await index_store.is_applied(ev.id) for ev in events])

    async def state():
        return (
            summary(await core.files("alice")),
            summary(await core.files("bob")),
            summary(await core.files("carol")),
            await core.status(),
        )

    first = await state()
    assert first[0] == EXPECTED_ALICE
    assert first[1] == EXPECTED_BOB
    assert first[2] == [("x", "1", "x.txt", ("main",), True)]
    assert [(s.owner, s.last_event_id, s.last_event_type, s.applied_at_ms, s.events_applied) for s in first[3]] == [
        ("alice", events[15].id, "package.removed", 1234500, 11),
        ("bob", events[17].id, "package.privacy_changed", 1234500, 7),
        ("carol", events[19].id, "package.privacy_changed", 1234500, 2),
    ]

    # RabbitMQ may deliver any of them again (a consumer died before its ack): in any order
    for ev in reversed(events):
        await bus.publish(ev)
    assert bus.dead_letters == []
    assert counter("applied") - applied_before == 20
    assert counter("duplicate") - dup_before == 20
    assert await state() == first


async def test_malformed_event_is_dead_lettered_and_changes_nothing(wired, index_store):
    bus, core, _ = wired
    bad_owner = committed(rec("mallory", "numpy", "1.0", "linux-64/numpy-1.0-0.tar.bz2"))
    bad_owner.owner = "alice"  # a file of another owner under alice's event
    no_payload = events_pb2.Event(id="e-no-payload", type="file.removed", owner="alice")
    no_basename = committed(rec("alice", "numpy", "1.0", ""))
    for ev in (bad_owner, no_payload, no_basename):
        await bus.publish(ev)
    assert [(d.consumer, d.event.id) for d in bus.dead_letters] == [
        (CONSUMER_NAME, bad_owner.id), (CONSUMER_NAME, "e-no-payload"), (CONSUMER_NAME, no_basename.id),
    ]
    assert "Invalid" in bus.dead_letters[0].error and "mallory" in bus.dead_letters[0].error
    assert await core.files("alice") == []
    assert await core.status() == []


async def test_handler_logs_under_the_event_request_id(wired, caplog):
    bus, _, _ = wired
    seen: list[tuple[str, str]] = []

    class RequestIdCapture(logging.Filter):
        def filter(self, record):
            seen.append((record.getMessage(), request_id_var.get()))
            return True

    capture = RequestIdCapture()
    caplog.handler.addFilter(capture)
    caplog.set_level(logging.INFO, logger="pkgcloud_servicekit.event_consumer")
    try:
        ev = committed(rec("alice", "numpy", "1.0", "linux-64/numpy-1.0-0.tar.bz2"))
        ev.request_id = "req-from-the-upload"
        await bus.publish(ev)
        await bus.publish(ev)
    finally:
        caplog.handler.removeFilter(capture)
    mine = [(msg, rid) for msg, rid in seen if ev.id in msg]
    assert [rid for _, rid in mine] == ["req-from-the-upload", "req-from-the-upload"]
    assert mine[0][0].startswith("applied") and mine[1][0].startswith("skipped already-applied")
    assert request_id_var.get() == "-"  # restored after the handler


async def test_a_stopped_consumer_leaves_events_for_redelivery(wired, index_store):
    bus, core, consumer = wired
    consumer.stop()
    ev = committed(rec("alice", "numpy", "1.0", "linux-64/numpy-1.0-0.tar.bz2"))
    await bus.publish(ev)
    assert [d.event.id for d in bus.dead_letters] == [ev.id]
    assert not await index_store.is_applied(ev.id)
    # a new consumer on the same queue name takes over; the stopped one's refusals are retried there
    fresh = IndexEventConsumer(bus, core)
    await fresh.start()
    await bus.publish(ev)
    assert await index_store.is_applied(ev.id)
