"""render-svc's consumer on a real InProcessEventBus: each event applied once, whatever the
redeliveries."""

from __future__ import annotations

import logging

import pytest
from pkgcloud_protos.v1 import common_pb2, events_pb2
from pkgcloud_render.consumer import CONSUMER_NAME, RenderEventConsumer
from pkgcloud_render.core import RenderCore
from pkgcloud_render.metrics import EVENTS
from pkgcloud_servicekit.eventbus.inprocess import InProcessEventBus
from pkgcloud_servicekit.events import new_event
from pkgcloud_servicekit.logs import request_id_var


def notebook(owner: str, i: int) -> common_pb2.FileRecord:
    return common_pb2.FileRecord(owner=owner, package=f"nb{i}", version="1", basename=f"nb{i}.ipynb", type="ipynb", sha256=f"{i:064x}", size=10)


def twenty_events() -> list[events_pb2.Event]:
    events = []
    for i in range(8):
        events.append(new_event("alice", file_committed=events_pb2.FileCommitted(file=notebook("alice", i))))
    for i in range(6):
        events.append(new_event("bob", file_committed=events_pb2.FileCommitted(file=notebook("bob", i))))
    events += [
        new_event("alice", file_removed=events_pb2.FileRemoved(file=notebook("alice", 0))),
        new_event("alice", package_removed=events_pb2.PackageRemoved(package="nb1", files=[notebook("alice", 1)])),
        new_event("bob", package_privacy_changed=events_pb2.PackagePrivacyChanged(package="nb2", public=False)),
        new_event("bob", file_labels_changed=events_pb2.FileLabelsChanged(file=notebook("bob", 3))),
        new_event("carol", file_committed=events_pb2.FileCommitted(file=notebook("carol", 0))),
        new_event("carol", file_removed=events_pb2.FileRemoved(file=notebook("carol", 0))),
    ]
    for i, ev in enumerate(events):
        ev.request_id = f"req-{i}"
    assert len(events) == 20
    return events


@pytest.fixture
async def wired(render_store):
    bus = InProcessEventBus(max_attempts=3, retry_delay_s=0.001)
    await bus.start()
    core = RenderCore(render_store, clock=lambda: 99.0)
    consumer = RenderEventConsumer(bus, core)
    await consumer.start()
    yield bus, core, consumer
    consumer.stop()
    await bus.close()


def counter(result: str) -> float:
    return EVENTS.labels(result)._value.get()


async def test_twenty_events_applied_once_each_and_redelivery_changes_nothing(wired, render_store):
    bus, core, _ = wired
    events = twenty_events()
    applied_before, dup_before = counter("applied"), counter("duplicate")
    for ev in events:
        await bus.publish(ev)
    assert bus.dead_letters == []
    assert counter("applied") - applied_before == 20
    assert all([await render_store.is_applied(ev.id) for ev in events])
    first = await core.status()
    assert [(s.owner, s.last_event_id, s.last_event_type, s.applied_at_ms, s.events_applied) for s in first] == [
        ("alice", events[15].id, "package.removed", 99000, 10),
        ("bob", events[17].id, "file.labels_changed", 99000, 8),
        ("carol", events[19].id, "file.removed", 99000, 2),
    ]
    for ev in reversed(events):
        await bus.publish(ev)
    assert bus.dead_letters == []
    assert counter("applied") - applied_before == 20
    assert counter("duplicate") - dup_before == 20
    assert await core.status() == first


async def test_event_without_owner_is_dead_lettered_and_changes_nothing(wired):
    bus, core, _ = wired
    await bus.publish(events_pb2.Event(id="e1", type="file.committed"))
    assert [(d.consumer, d.event.id) for d in bus.dead_letters] == [(CONSUMER_NAME, "e1")]
    assert "has no owner" in bus.dead_letters[0].error
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
        ev = new_event("alice", file_committed=events_pb2.FileCommitted(file=notebook("alice", 1)))
        ev.request_id = "req-from-the-upload"
        await bus.publish(ev)
        await bus.publish(ev)
    finally:
        caplog.handler.removeFilter(capture)
    mine = [(msg, rid) for msg, rid in seen if ev.id in msg]
    assert [rid for _, rid in mine] == ["req-from-the-upload", "req-from-the-upload"]
    assert mine[0][0].startswith("applied") and mine[1][0].startswith("skipped already-applied")
    assert request_id_var.get() == "-"


async def test_events_outside_the_subscription_do_not_reach_it(wired):
    bus, core, _ = wired
    await bus.publish(new_event("alice", token_revoked=events_pb2.TokenRevoked(token_sha256="x", login="alice")))
    assert await core.status() == []
