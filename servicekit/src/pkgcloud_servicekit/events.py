"""Building and encoding domain events."""

from __future__ import annotations

import time
import uuid

from pkgcloud_protos.v1 import events_pb2

from .logs import request_id_var

# Routing key of each payload field of events_pb2.Event.
EVENT_TYPES = {
    "file_committed": "file.committed",
    "file_removed": "file.removed",
    "file_labels_changed": "file.labels_changed",
    "package_privacy_changed": "package.privacy_changed",
    "package_removed": "package.removed",
    "token_revoked": "token.revoked",
    "membership_changed": "membership.changed",
    "file_yank_changed": "file.yank_changed",  # PyPI (issue 4)
}


def new_event(owner: str, **payload) -> events_pb2.Event:
    """new_event("alice", file_committed=events_pb2.FileCommitted(...))"""
    if len(payload) != 1:
        raise TypeError("exactly one payload")
    (field, value), = payload.items()
    return events_pb2.Event(
        id=uuid.uuid4().hex,
        type=EVENT_TYPES[field],
        owner=owner,
        occurred_at_ms=int(time.time() * 1000),
        request_id=request_id_var.get(),
        **{field: value},
    )


def encode(event: events_pb2.Event) -> bytes:
    return event.SerializeToString()


def decode(data: bytes) -> events_pb2.Event:
    ev = events_pb2.Event()
    ev.ParseFromString(data)
    return ev
