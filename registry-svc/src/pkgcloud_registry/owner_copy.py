"""`anaconda copy OWNER/PKG/VER --to-owner OTHER`: a release's files become files of another
account (reference §4.13).

The bytes are not copied: the new records name the same content-addressed blob (and the
sidecars kept beside it, such as a wheel's METADATA), which stays until no record of any
account references it. The destination package and release are created like the source's
when missing. Every new record is a commit with its own `file.committed` event, so every
index of the destination updates as after an upload.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit import audit
from pkgcloud_servicekit.errors import Conflict, Invalid, NotFound
from pkgcloud_servicekit.events import new_event

from . import names
from .convert import file_record
from .labels import COPY_MODES, ChangedFile
from .store import StoredFile

if TYPE_CHECKING:
    from .core import RegistryCore


async def copy_to_owner(
    core: RegistryCore, owner: str, package: str, version: str, basename: str, from_label: str, to_label: str, to_owner: str,
    mode: str = "",
) -> list[ChangedFile]:
    """Without mode, a basename the destination already has is a conflict when it is in
    to_label already or holds other bytes; "replace"/"update" give the label to identical
    bytes and replace different ones (as `upload --force` does: the old file is removed)."""
    from .core import now_ms

    if mode not in COPY_MODES:
        raise Invalid(f"unknown copy mode {mode!r}")
    names.validate_owner(to_owner)
    from_label, to_label = from_label or "main", to_label or "main"
    names.validate_label(from_label)
    names.validate_label(to_label)
    source = await core._package(owner, package)
    names.validate_version(version)
    files = [f for f in await core.store.list_files(owner, package, version)
             if from_label in f.labels and (not basename or f.basename == basename)]
    if not files:
        raise NotFound(f"no file of {owner}/{package}/{version} in label {from_label!r}")
    await core.labels.require_unlocked(to_owner, [to_label])

    # Decide everything before changing anything: a conflict leaves the destination as it was.
    plan: list[tuple[StoredFile, StoredFile | None]] = []
    for f in files:
        existing = await core.store.get_file(to_owner, package, version, f.basename)
        if existing is not None and not mode and (to_label in existing.labels or existing.sha256 != f.sha256):
            raise Conflict(f"file {f.basename} already exists in {to_owner}/{package}/{version}: "
                           "copy with --replace or --update to overwrite it")
        plan.append((f, existing))

    destination = await core.store.get_package(to_owner, package)
    if destination is None:
        if any(f.type == "pypi" for f in files):
            await core._refuse_pypi_name_clash(to_owner, package)
        await core.create_package(to_owner, package, public=source.public, summary=source.summary,
                                  package_types=list(source.package_types), public_attrs_json=json.dumps(source.public_attrs))
        destination = await core._package(to_owner, package)
    if await core.store.get_release(to_owner, package, version) is None:
        release = await core.store.get_release(owner, package, version)
        await core.create_release(to_owner, package, version, json.dumps(release.attrs) if release else "")

    out: list[ChangedFile] = []
    for f, existing in plan:
        if existing is not None and existing.sha256 == f.sha256:
            if to_label not in existing.labels:
                out += await core.labels._relabel([(existing, (*existing.labels, to_label))], "file.copy", to_label)
            else:
                out.append(ChangedFile(existing, destination.public))
            continue
        if existing is not None:
            await core.delete_file(to_owner, package, version, f.basename)
        copy = f.with_(owner=to_owner, labels=(to_label,), upload_time_ms=now_ms(), download_count=0)
        event = new_event(to_owner, file_committed=events_pb2.FileCommitted(
            file=file_record(copy, package_public=destination.public), replaced=existing is not None))
        async with core._blob_lock(f.sha256):
            # the source's record may have been removed since it was read: its blob with it
            if not await core.blobs.exists(f.blob_key):
                raise NotFound(f"file {f.basename} of {owner}/{package}/{version} is gone")
            entry = audit.entry(to_owner, "file.copy", f"{to_owner}/{package}/{version}/{f.basename}#{to_label}")
            await core.store.add_file(copy, event, package_type=f.type, modified_at_ms=copy.upload_time_ms, audit_entries=[entry])
        core._notify()
        out.append(ChangedFile(copy, destination.public))
    return out
