"""The audit contract's pure parts: the metadata the actor travels in, the cursor of merged
trails, and how an entry joins a MongoDB write. (The stores' behaviour is tested by each
service's contract suite; the whole path by tests/test_audit_e2e.py.)"""

from __future__ import annotations

import pytest
from pkgcloud_servicekit import audit
from pkgcloud_servicekit.audit import MAX_ID, Actor, Position


def test_actor_metadata_round_trip():
    for actor in (Actor("alice", "ci ✓", "192.0.2.1"), Actor("alice", None, "::1"), Actor("", None, "10.0.0.1")):
        md = dict(audit.actor_metadata(actor))
        assert audit.actor_from_metadata(md) == actor
        # gRPC wants text values for plain keys and bytes for -bin ones
        assert all(isinstance(v, bytes) == k.endswith("-bin") for k, v in md.items())
    assert audit.actor_metadata(None) == []
    assert audit.actor_from_metadata({"x-request-id": "r"}) is None


def test_cursor_round_trip_and_refusals():
    cursor = audit.encode_cursor(1_700_000_000_123, "registry", 42)
    assert audit.decode_cursor(cursor) == (1_700_000_000_123, "registry", 42)
    for bad in ("", "nonsense", "e30", audit.encode_cursor(1, "auth", 2)[:-3] + "!!!"):
        with pytest.raises(ValueError):
            audit.decode_cursor(bad)


def test_position_for_orders_equal_milliseconds_by_source():
    order = ("auth", "registry")  # newest first: registry's entries of a millisecond come first
    after_registry = (1000, "registry", 7)
    assert audit.position_for("registry", after_registry, order) == Position(1000, 7)
    assert audit.position_for("auth", after_registry, order) == Position(1000, MAX_ID)  # all of auth's ms 1000 still to come
    after_auth = (1000, "auth", 3)
    assert audit.position_for("auth", after_auth, order) == Position(1000, 3)
    assert audit.position_for("registry", after_auth, order) == Position(1000, 0)  # registry's ms 1000 came already
    assert audit.position_for("auth", None, order) is None


def test_entries_join_a_mongodb_update_without_disturbing_it():
    e = audit.entry("alice", "file.upload", "alice/p/1/f", at_ms=5, actor=Actor("alice", "ci", "c"))
    update = {"$set": {"live": False}, "$push": {"outbox": {"$each": [1]}}}
    out = audit.mongo_update(update, [e])
    assert out["$push"]["outbox"] == {"$each": [1]} and out["$set"]["live"] is False
    assert out["$set"][audit.HAS_PENDING] is True
    [pending] = out["$push"][audit.PENDING_FIELD]["$each"]
    assert pending["_id"] > 0 and pending["actor"] == "alice" and pending["token"] == "ci"
    assert update == {"$set": {"live": False}, "$push": {"outbox": {"$each": [1]}}}  # the caller's dict is untouched
    assert audit.mongo_update(update, []) is update
    assert audit.entry("a", "x", "t").public()["at"].endswith("Z")
