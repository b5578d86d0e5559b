"""Protobuf <-> render-svc's domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pkgcloud_protos.v1 import common_pb2, events_pb2, render_pb2
from pkgcloud_servicekit.errors import Invalid

from .store import OwnerStatus


@dataclass(frozen=True)
class IncomingEvent:
    event_id: str
    event_type: str
    owner: str
    request_id: str
    # the committed file, for file.committed (notebooks are rendered from it)
    file_type: str = ""
    sha256: str = ""
    blob_key: str = ""


def incoming_event(event: events_pb2.Event) -> IncomingEvent:
    """The parts of an event render-svc records; Invalid if it cannot be recorded."""
    if not event.id:
        raise Invalid("event without id")
    if not event.owner:
        raise Invalid(f"event {event.id} ({event.type}) has no owner")
    file = event.file_committed.file if event.WhichOneof("payload") == "file_committed" else None
    return IncomingEvent(
        event_id=event.id, event_type=event.type, owner=event.owner, request_id=event.request_id,
        file_type=file.type if file is not None else "", sha256=file.sha256 if file is not None else "",
        blob_key=file.blob_key if file is not None else "",
    )


def rendered_notebook(result) -> render_pb2.RenderedNotebook:
    return render_pb2.RenderedNotebook(
        status=result.status, html_key=result.html_key, error=result.error, limit=result.limit, render_ms=result.render_ms,
    )


def consumer_status(statuses: Sequence[OwnerStatus]) -> common_pb2.ConsumerStatus:
    return common_pb2.ConsumerStatus(
        owners=[
            common_pb2.ConsumerOwnerStatus(
                owner=s.owner,
                last_event_id=s.last_event_id,
                last_event_type=s.last_event_type,
                applied_at_ms=s.applied_at_ms,
                events_applied=s.events_applied,
            )
            for s in statuses
        ],
        total_applied=sum(s.events_applied for s in statuses),
    )
