"""The RenderStore contract, run over SQLite, mongomock-motor and (if configured) MongoDB."""

from __future__ import annotations

from pkgcloud_render.store import AppliedEvent, OwnerStatus, RenderStore


def an_event(event_id: str, owner="alice", event_type="file.committed", at=1000) -> AppliedEvent:
    return AppliedEvent(event_id=event_id, event_type=event_type, owner=owner, applied_at_ms=at)


async def test_implements_the_interface(render_store):
    assert isinstance(render_store, RenderStore)


async def test_fresh_store_is_empty(render_store):
    assert await render_store.owner_statuses() == []
    assert await render_store.owner_statuses("alice") == []
    assert not await render_store.is_applied("e1")


async def test_apply_records_status(render_store):
    assert await render_store.apply_event(an_event("e1", at=5000))
    assert await render_store.is_applied("e1")
    assert await render_store.owner_statuses("alice") == [OwnerStatus("alice", "e1", "file.committed", 5000, 1)]


async def test_duplicate_event_changes_nothing(render_store):
    assert await render_store.apply_event(an_event("e1", at=1))
    assert await render_store.apply_event(an_event("e2", event_type="file.removed", at=2))
    assert not await render_store.apply_event(an_event("e1", at=3))
    assert await render_store.owner_statuses() == [OwnerStatus("alice", "e2", "file.removed", 2, 2)]


async def test_status_per_owner(render_store):
    await render_store.apply_event(an_event("a1", owner="alice", at=10))
    await render_store.apply_event(an_event("b1", owner="bob", at=11))
    await render_store.apply_event(an_event("a2", owner="alice", event_type="package.removed", at=12))
    statuses = await render_store.owner_statuses()
    assert statuses == [OwnerStatus("alice", "a2", "package.removed", 12, 2), OwnerStatus("bob", "b1", "file.committed", 11, 1)]
    assert await render_store.owner_statuses("bob") == [statuses[1]]
    assert await render_store.owner_statuses("carol") == []


async def test_owner_and_ids_round_trip_unicode(render_store):
    assert await render_store.apply_event(an_event("é-1", owner="zoë"))
    assert await render_store.is_applied("é-1")
    assert [s.owner for s in await render_store.owner_statuses("zoë")] == ["zoë"]
