"""The outbox relay: nothing lost between a commit and its publication, nothing published twice."""

import asyncio
import logging

from pkgcloud_registry.core import RegistryCore
from pkgcloud_registry.outbox import OutboxRelay


async def wait_for(cond, timeout=5.0):
    for _ in range(int(timeout / 0.01)):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def test_crash_between_commit_and_publish_loses_nothing(store_factory, blobs, settings, bus, recorder, h):
    # Commit while no relay runs, then "crash": the store closes with the event unsent.
    s1 = await store_factory.open()
    core = RegistryCore(s1, blobs, settings)
    await h.release(core)
    committed = await h.upload(core, "alice", "hello", "1.0", "a.txt", b"payload")
    await s1.close()
    assert recorder.events == []

    # Restart: a new store over the same data and a relay that only polls.
    s2 = await store_factory.open()
    relay = OutboxRelay(s2, bus, poll_s=0.05)
    await relay.start()
    try:
        await wait_for(lambda: len(recorder.events) >= 1)
        await asyncio.sleep(0.2)  # a few more polls: still exactly once
    finally:
        await relay.stop()
    assert recorder.types() == ["file.committed"]
    assert recorder.events[0].file_committed.file.sha256 == committed.file.sha256
    assert await s2.pending_events() == []  # marked sent
    # and a relay started later publishes nothing again
    assert await OutboxRelay(s2, bus).drain() == 0
    assert len(recorder.events) == 1


async def test_publish_failure_is_logged_and_retried_in_order(store, blobs, settings, bus, recorder, h, caplog):
    core = RegistryCore(store, blobs, settings)
    await h.release(core)
    await bus.close()  # the broker is "down": publish raises
    relay = OutboxRelay(store, bus, poll_s=0.05)
    core.on_commit = relay.wake
    await relay.start()
    try:
        with caplog.at_level(logging.ERROR, logger="pkgcloud_registry.outbox"):
            await h.upload(core, "alice", "hello", "1.0", "a.txt", b"1")
            await h.upload(core, "alice", "hello", "1.0", "b.txt", b"2")
            await wait_for(lambda: any("outbox relay pass failed" in r.getMessage() for r in caplog.records))
        assert len(await store.pending_events()) == 2
        await bus.start()  # back up: the next poll publishes both, in commit order
        await wait_for(lambda: len(recorder.events) == 2)
    finally:
        await relay.stop()
    assert [e.file_committed.file.basename for e in recorder.events] == ["a.txt", "b.txt"]
    assert await store.pending_events() == []


async def test_removal_events_follow_commit_events(store, blobs, settings, bus, recorder, h):
    core = RegistryCore(store, blobs, settings)
    await h.release(core)
    await h.upload(core, "alice", "hello", "1.0", "a.txt", b"1")
    await core.delete_file("alice", "hello", "1.0", "a.txt")
    await h.upload(core, "alice", "hello", "1.0", "a.txt", b"2")
    await core.delete_package("alice", "hello")
    assert await OutboxRelay(store, bus).drain() == 4
    assert recorder.types() == ["file.committed", "file.removed", "file.committed", "package.removed"]
    assert await store.pending_events() == []
    if hasattr(store, "files"):  # MongoDB: the tombstones are gone once their events are out
        assert await store.files.count_documents({}) == 0
        assert await store.packages.count_documents({}) == 0
