"""MongoRenderStore's recovery from an attempt that stopped part-way (no transactions there)."""

from __future__ import annotations

import uuid

from mongomock_motor import AsyncMongoMockClient
from pkgcloud_render.store import AppliedEvent
from pkgcloud_render.store.mongo import MongoRenderStore


async def _store() -> MongoRenderStore:
    store = MongoRenderStore(AsyncMongoMockClient()[f"t_{uuid.uuid4().hex[:8]}"])
    await store.open()
    return store


async def test_claimed_but_unfinished_event_is_finished_by_the_redelivery():
    store = await _store()
    await store.applied.insert_one({"_id": "e1", "owner": "alice", "event_type": "file.committed", "applied_at_ms": 1, "done": False})
    assert not await store.is_applied("e1")
    assert await store.apply_event(AppliedEvent("e1", "file.committed", "alice", 2))
    assert await store.is_applied("e1")
    [status] = await store.owner_statuses()
    assert status.events_applied == 1
    assert not await store.apply_event(AppliedEvent("e1", "file.committed", "alice", 3))


async def test_crash_after_counting_does_not_count_twice():
    store = await _store()
    assert await store.apply_event(AppliedEvent("e0", "file.committed", "alice", 1))
    await store.applied.insert_one({"_id": "e1", "owner": "alice", "event_type": "file.committed", "applied_at_ms": 2, "done": False})
    await store.status.update_one({"_id": "alice"}, {"$set": {"last_event_id": "e1"}, "$inc": {"events_applied": 1}})
    assert await store.apply_event(AppliedEvent("e1", "file.committed", "alice", 3))
    [status] = await store.owner_statuses()
    assert (status.last_event_id, status.events_applied) == ("e1", 2)
    assert await store.is_applied("e1")
