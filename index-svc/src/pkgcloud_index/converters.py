"""Protobuf <-> index-svc's domain: incoming events into file changes, status into replies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from pkgcloud_protos.v1 import common_pb2, events_pb2
from pkgcloud_servicekit.errors import Invalid

from .store import FileChange, IndexedFile, OwnerStatus, RemoveFile, RemovePackage, SetPackagePrivacy, UpsertFile

# The payload field each event type must carry.
_PAYLOAD_OF_TYPE = {
    "file.committed": "file_committed",
    "file.removed": "file_removed",
    "file.labels_changed": "file_labels_changed",
    "package.privacy_changed": "package_privacy_changed",
    "package.removed": "package_removed",
    "file.yank_changed": "file_yank_changed",
}


@dataclass(frozen=True)
class IncomingEvent:
    event_id: str
    event_type: str
    owner: str
    request_id: str
    changes: tuple[FileChange, ...]


def incoming_event(event: events_pb2.Event) -> IncomingEvent:
    """The changes an event implies for the current files; Invalid if it is malformed.

    Event types this service does not know (under file.* / package.*) imply no change: they
    are recorded as applied so a newer registry does not wedge an older index-svc.
    """
    if not event.id:
        raise Invalid("event without id")
    if not event.owner:
        raise Invalid(f"event {event.id} ({event.type}) has no owner")
    expected = _PAYLOAD_OF_TYPE.get(event.type)
    changes: list[FileChange] = []
    if expected is not None:
        carried = event.WhichOneof("payload")
        if carried != expected:
            raise Invalid(f"event {event.id} of type {event.type} carries payload {carried or 'none'}, expected {expected}")
        payload = getattr(event, expected)
        if event.type in ("file.committed", "file.labels_changed", "file.yank_changed"):
            changes.append(UpsertFile(_indexed_file(event, payload.file)))
        elif event.type == "file.removed":
            f = _indexed_file(event, payload.file)
            changes.append(RemoveFile(f.owner, f.package, f.version, f.basename))
        elif event.type == "package.privacy_changed":
            package = _require(event, "package", payload.package)
            # Carried files are the registry's current records: upserting them heals a file
            # whose own event was dead-lettered.
            for rec in payload.files:
                f = _indexed_file(event, rec, package=package)
                changes.append(UpsertFile(replace(f, public=payload.public)))
            changes.append(SetPackagePrivacy(event.owner, package, payload.public))
        elif event.type == "package.removed":
            package = _require(event, "package", payload.package)
            changes.append(RemovePackage(event.owner, package))
    return IncomingEvent(
        event_id=event.id,
        event_type=event.type,
        owner=event.owner,
        request_id=event.request_id,
        changes=tuple(changes),
    )


def _require(event: events_pb2.Event, what: str, value: str) -> str:
    if not value:
        raise Invalid(f"event {event.id} ({event.type}) has an empty {what}")
    return value


def _indexed_file(event: events_pb2.Event, rec: common_pb2.FileRecord, package: str = "") -> IndexedFile:
    if rec.owner and rec.owner != event.owner:
        raise Invalid(f"event {event.id} for owner {event.owner!r} carries a file of owner {rec.owner!r}")
    if package and rec.package != package:
        raise Invalid(f"event {event.id} for package {package!r} carries a file of package {rec.package!r}")
    for what in ("package", "version", "basename"):
        _require(event, f"file {what}", getattr(rec, what))
    return IndexedFile(
        owner=event.owner,
        package=rec.package,
        version=rec.version,
        basename=rec.basename,
        type=rec.type,
        subdir=rec.subdir,
        labels=tuple(rec.labels),
        sha256=rec.sha256,
        size=rec.size,
        public=rec.package_public,
        attrs_json=rec.attrs_json,
        upload_time_ms=rec.upload_time_ms,
        yanked=rec.yanked,
        yanked_reason=rec.yanked_reason,
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
