"""RegistryCore: the registry's logic, independent of the transport (gRPC servicer, tests)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit import audit
from pkgcloud_servicekit.audit import AuditEntry, AuditQuery
from pkgcloud_servicekit.blobstore import BlobNotFound, BlobStore, content_key, sidecar_key
from pkgcloud_servicekit.errors import Conflict, Invalid, NotFound, TooLarge
from pkgcloud_servicekit.events import new_event
from pkgcloud_servicekit.periodic import PeriodicTask
from pkgcloud_servicekit.settings import Settings

from . import names
from .convert import file_record
from .inspectors import UploadContext, inspector_for
from .labels import LabelManager
from .privacy import PackageAccessManager, ReadAccess
from .store import PackageRecord, RegistryStore, ReleaseRecord, StagedUpload, StoredFile
from .store.interfaces import STAGE_COMMITTED, project_key

log = logging.getLogger(__name__)

# What this registry stores; anaconda-client also knows r, project and installer.
FILE_TYPES = ("conda", "pypi", "file", "ipynb", "env")
UPLOAD_PREFIX = "uploads/"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SUBDIR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_BLOB_LOCKS = 64
YANK_REASON_MAX = 1000


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class PackageDetail:
    package: PackageRecord
    versions: list[str]
    files: list[StoredFile]


@dataclass(frozen=True)
class ReleaseDetail:
    release: ReleaseRecord
    files: list[StoredFile]
    package_public: bool


@dataclass(frozen=True)
class StageResult:
    dist_id: str
    post_url: str
    form_data: list[tuple[str, str]]


@dataclass(frozen=True)
class FormGrant:
    blob_key: str
    max_size: int


@dataclass(frozen=True)
class FileView:
    file: StoredFile
    package_public: bool


@dataclass(frozen=True)
class EnsuredProject:
    """RegistryCore.ensure_release's answer."""

    #: the package's name as stored ("" after a lookup that found none)
    package: str
    #: False: `package` is another spelling than the checked one, and nothing was written
    checked: bool
    package_created: bool = False
    release_created: bool = False
    #: the file asked about, when the release has it
    file: FileView | None = None


#: one answer for every download refused (issue 5: a private file looks missing)
FILE_NOT_FOUND = "File not found"


def _json_object(field: str, text: str, *, allow_empty: bool = True) -> dict[str, Any]:
    if not text:
        if allow_empty:
            return {}
        raise Invalid(f"{field} must not be empty")
    try:
        value = json.loads(text)
    except ValueError:
        raise Invalid(f"{field} is not valid JSON") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(f"{field} must be a JSON object")
    return value


def _license_name(attrs: dict[str, Any]) -> str:
    lic = attrs.get("license")
    if isinstance(lic, dict):
        lic = lic.get("name")
    return lic if isinstance(lic, str) else ""


def _yank_reason(yanked: bool, reason: str) -> str:
    """The reason as stored: one line (pip prints it), none when un-yanking."""
    reason = " ".join((reason or "").split()) if yanked else ""
    if len(reason) > YANK_REASON_MAX:
        raise Invalid(f"the yank reason is {len(reason)} characters long; the limit is {YANK_REASON_MAX}")
    return reason


def _new_package(
    owner: str, name: str, *, public: bool, summary: str, package_types: list[str] | tuple[str, ...], public_attrs_json: str = "",
) -> PackageRecord:
    names.validate_owner(owner)
    names.validate_package(name)
    attrs = _json_object("public_attrs", public_attrs_json)
    summary = summary or (attrs.get("summary") if isinstance(attrs.get("summary"), str) else "") or ""
    types = _validate_types(list(package_types) or [t for t in attrs.get("package_types") or [] if isinstance(t, str)])
    t = now_ms()
    return PackageRecord(
        owner=owner, name=name, public=public, summary=summary, license=_license_name(attrs), package_types=types,
        public_attrs=attrs, created_at_ms=t, modified_at_ms=t,
    )


def _package_created(pkg: PackageRecord) -> AuditEntry:
    return audit.entry(pkg.owner, "package.create", f"{pkg.owner}/{pkg.name}")


def _release_created(rel: ReleaseRecord) -> AuditEntry:
    return audit.entry(rel.owner, "release.create", f"{rel.owner}/{rel.package}/{rel.version}")


def _validate_types(types: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for t in types:
        if t not in FILE_TYPES:
            raise Invalid(f"unknown package type {t!r} (expected one of {', '.join(FILE_TYPES)})")
        if t not in out:
            out.append(t)
    return tuple(out)


class RegistryCore:
    def __init__(self, store: RegistryStore, blobs: BlobStore, settings: Settings, on_commit: Callable[[], None] | None = None):
        self.store = store
        self.blobs = blobs
        self.settings = settings
        #: called after every stored event (wakes the outbox relay)
        self.on_commit = on_commit
        # Serialize "is this content blob still referenced" against commits of the same
        # bytes within this process (striped: bounded memory whatever the number of files).
        self._blob_locks = [asyncio.Lock() for _ in range(_BLOB_LOCKS)]
        self.labels = LabelManager(store, self._notify)
        self.access = PackageAccessManager(store, self._notify, now_ms)  # private packages (issue 5)

    def _notify(self) -> None:
        if self.on_commit is not None:
            self.on_commit()

    def _blob_lock(self, sha256: str) -> asyncio.Lock:
        return self._blob_locks[int(sha256[:8], 16) % _BLOB_LOCKS]

    # --- packages -------------------------------------------------------------------
    async def create_package(
        self, owner: str, name: str, *, public: bool = True, summary: str = "", package_types: list[str] | tuple[str, ...] = (),
        public_attrs_json: str = "",
    ) -> PackageDetail:
        pkg = _new_package(owner, name, public=public, summary=summary, package_types=package_types, public_attrs_json=public_attrs_json)
        await self.store.create_package(pkg, audit_entries=[_package_created(pkg)])
        return PackageDetail(pkg, [], [])

    async def _package(self, owner: str, name: str) -> PackageRecord:
        names.validate_owner(owner)
        names.validate_package(name)
        pkg = await self.store.get_package(owner, name)
        if pkg is None:
            raise NotFound("Package not found")
        return pkg

    async def _detail(self, pkg: PackageRecord) -> PackageDetail:
        releases = await self.store.list_releases(pkg.owner, pkg.name)
        files = await self.store.list_files(pkg.owner, pkg.name)
        return PackageDetail(pkg, [r.version for r in releases], files)

    async def get_package(self, owner: str, name: str) -> PackageDetail:
        return await self._detail(await self._package(owner, name))

    async def list_packages(self, owner: str) -> list[PackageDetail]:
        names.validate_owner(owner)
        return [await self._detail(p) for p in await self.store.list_packages(owner)]

    async def update_package(self, owner: str, name: str, public_attrs_json: str) -> PackageDetail:
        pkg = await self._package(owner, name)
        changes = _json_object("public_attrs", public_attrs_json)
        attrs = {**pkg.public_attrs, **changes}
        update: dict[str, Any] = {"public_attrs": attrs, "modified_at_ms": now_ms()}
        if isinstance(changes.get("summary"), str):
            update["summary"] = changes["summary"]
        if "license" in changes:
            update["license"] = _license_name(changes)
        updated = await self.store.update_package(owner, name, audit_entries=[audit.entry(owner, "package.update", f"{owner}/{name}")], **update)
        if updated is None:
            raise NotFound("Package not found")
        return await self._detail(updated)

    async def delete_package(self, owner: str, name: str) -> int:
        await self._package(owner, name)

        def events(pkg: PackageRecord, files: list[StoredFile]) -> list[events_pb2.Event]:
            removed = events_pb2.PackageRemoved(package=pkg.name, files=[file_record(f, package_public=pkg.public) for f in files])
            return [new_event(pkg.owner, package_removed=removed)]

        files = await self.store.delete_package(owner, name, events, audit_entries=[audit.entry(owner, "package.remove", f"{owner}/{name}")])
        if files is None:
            raise NotFound("Package not found")
        self._notify()
        await self._release_blobs(files)
        return len(files)

    # --- releases -------------------------------------------------------------------
    async def create_release(self, owner: str, package: str, version: str, attrs_json: str = "") -> ReleaseDetail:
        pkg = await self._package(owner, package)
        names.validate_version(version)
        rel = ReleaseRecord(owner=owner, package=package, version=version, attrs=_json_object("attrs", attrs_json), created_at_ms=now_ms())
        await self.store.create_release(rel, audit_entries=[_release_created(rel)])
        return ReleaseDetail(rel, [], pkg.public)

    async def ensure_release(
        self, owner: str, name: str, version: str, *, checked_package: str = "", lookup_only: bool = False, public: bool = True,
        summary: str = "", package_types: list[str] | tuple[str, ...] = (), release_attrs_json: str = "", basename: str = "",
    ) -> EnsuredProject:
        """twine's find-or-create (the EnsureRelease RPC): the owner's package for the project
        `name` (PEP 503 normalized match) and its release `version`, created when missing,
        with the audit entries CreatePackage and CreateRelease record. Writes only into
        `checked_package` (default `name`, the package the caller's write access was checked
        for); another spelling found answers checked=False and writes nothing."""
        names.validate_owner(owner)
        names.validate_package(name)
        checked_package = checked_package or name
        names.validate_package(checked_package)
        if project_key(checked_package) != project_key(name):
            raise Invalid(f"checked_package {checked_package!r} is not a spelling of the project {name!r}")
        if lookup_only:
            found = await self.store.find_project(owner, name)
            return EnsuredProject(found.name if found else "", found is not None and found.name == checked_package)
        names.validate_version(version)
        if basename:
            names.validate_basename(basename)
        pkg = _new_package(owner, checked_package, public=public, summary=summary, package_types=package_types)
        rel = ReleaseRecord(owner=owner, package=checked_package, version=version, attrs=_json_object("release_attrs", release_attrs_json),
                            created_at_ms=pkg.created_at_ms)
        ensured = await self.store.ensure_release(pkg, rel, package_audit=[_package_created(pkg)], release_audit=[_release_created(rel)])
        if ensured.release is None:
            return EnsuredProject(ensured.package.name, False)
        existing = await self.store.get_file(owner, checked_package, version, basename) if basename else None
        return EnsuredProject(
            ensured.package.name, True, ensured.package_created, ensured.release_created,
            FileView(existing, ensured.package.public) if existing else None,
        )

    async def get_release(self, owner: str, package: str, version: str) -> ReleaseDetail:
        pkg = await self._package(owner, package)
        names.validate_version(version)
        rel = await self.store.get_release(owner, package, version)
        if rel is None:
            raise NotFound("Release not found")
        return ReleaseDetail(rel, await self.store.list_files(owner, package, version), pkg.public)

    async def update_release(self, owner: str, package: str, version: str, attrs_json: str) -> ReleaseDetail:
        current = await self.get_release(owner, package, version)
        attrs = {**current.release.attrs, **_json_object("attrs", attrs_json)}
        rel = await self.store.update_release(owner, package, version, attrs,
                                              audit_entries=[audit.entry(owner, "release.update", f"{owner}/{package}/{version}")])
        if rel is None:
            raise NotFound("Release not found")
        return ReleaseDetail(rel, current.files, current.package_public)

    async def delete_release(self, owner: str, package: str, version: str) -> int:
        await self._package(owner, package)
        names.validate_version(version)

        def events(pkg: PackageRecord, files: list[StoredFile]) -> list[events_pb2.Event]:
            return [
                new_event(pkg.owner, file_removed=events_pb2.FileRemoved(file=file_record(f, package_public=pkg.public))) for f in files
            ]

        files = await self.store.delete_release(owner, package, version, events,
                                                audit_entries=[audit.entry(owner, "release.remove", f"{owner}/{package}/{version}")])
        if files is None:
            raise NotFound("Release not found")
        self._notify()
        await self._release_blobs(files)
        return len(files)

    # --- files ----------------------------------------------------------------------
    async def get_file(self, owner: str, package: str, version: str, basename: str) -> FileView:
        pkg = await self._package(owner, package)
        names.validate_version(version)
        names.validate_basename(basename)
        f = await self.store.get_file(owner, package, version, basename)
        if f is None:
            raise NotFound("Distribution not found")
        return FileView(f, pkg.public)

    async def delete_file(self, owner: str, package: str, version: str, basename: str) -> FileView:
        view = await self.get_file(owner, package, version, basename)
        await self.labels.require_unlocked(owner, view.file.labels)  # a locked label keeps its files

        def event(pkg: PackageRecord, f: StoredFile) -> events_pb2.Event:
            return new_event(pkg.owner, file_removed=events_pb2.FileRemoved(file=file_record(f, package_public=pkg.public)))

        f = await self.store.delete_file(owner, package, version, basename, event,
                                         audit_entries=[audit.entry(owner, "file.remove", f"{owner}/{package}/{version}/{basename}")])
        if f is None:
            raise NotFound("Distribution not found")
        self._notify()
        await self._release_blobs([f])
        return FileView(f, view.package_public)

    async def open_download(
        self, owner: str, package: str, version: str, basename: str, access: ReadAccess, *, label: str = "", file_type: str = "",
        count: bool = False, cached_sha256: frozenset[str] = frozenset(),
    ) -> FileView:
        """A download (the OpenDownload RPC): the file if `access` may read it (and it carries
        `label`, and is of `file_type`, when given), counted when `count` and the client does
        not hold these bytes already. Every refusal is the one NotFound a missing file gets."""
        names.validate_file_ref(owner, package, version, basename)
        pkg = await self.store.get_package(owner, package)
        f = await self.store.get_file(owner, package, version, basename) if pkg is not None and access.may_read(pkg) else None
        if f is None or (label and label not in f.labels) or (file_type and f.type != file_type):
            raise NotFound(FILE_NOT_FOUND)
        if count and f.sha256 not in cached_sha256:
            f = await self.store.increment_downloads(owner, package, version, basename)
            if f is None:
                raise NotFound(FILE_NOT_FOUND)  # removed meanwhile
        return FileView(f, pkg.public)

    async def set_yanked(self, owner: str, package: str, version: str, basename: str, yanked: bool, reason: str = "") -> FileView:
        """Yank (PEP 592) or un-yank a Python distribution; file.yank_changed is stored with
        the change. Setting the state it already has changes nothing and announces nothing."""
        view = await self._yankable(owner, package, version, basename)
        reason = _yank_reason(yanked, reason)
        if (view.file.yanked, view.file.yanked_reason) == (yanked, reason):
            return view

        def event(pkg: PackageRecord, after: StoredFile) -> events_pb2.Event:
            return new_event(pkg.owner, file_yank_changed=events_pb2.FileYankChanged(file=file_record(after, package_public=pkg.public)))

        entries = [audit.entry(owner, "file.yank" if yanked else "file.unyank", f"{owner}/{package}/{version}/{basename}")]
        f = await self.store.set_file_yanked(owner, package, version, basename, yanked, reason, event, audit_entries=entries)
        if f is None:
            raise NotFound("Distribution not found")
        self._notify()
        return FileView(f, view.package_public)

    async def _yankable(self, owner: str, package: str, version: str, basename: str) -> FileView:
        view = await self.get_file(owner, package, version, basename)
        if view.file.type != "pypi":
            raise Invalid(f"{basename} is a {view.file.type} file: only Python distributions (pypi) can be yanked")
        return view

    async def set_release_yanked(
        self, owner: str, project: str, version: str, basenames: list[str] | tuple[str, ...], yanked: bool, reason: str = "",
    ) -> tuple[str, list[FileView]]:
        """Yank or un-yank (the SetReleaseYanked RPC) every Python distribution of a release,
        or the named files of it: (the package's name, the files as they are now). Every
        file is checked before any changes, so a refusal (unknown file, a conda file, a
        reason too long) changes nothing; each change is then set_yanked's (its event and
        audit entry in one write)."""
        names.validate_owner(owner)
        found = await self.store.find_project(owner, project)
        if found is None:
            raise NotFound(f"no project {project!r} in {owner}'s PyPI index")
        package = found.name
        _yank_reason(yanked, reason)
        if basenames:
            for basename in basenames:
                await self._yankable(owner, package, version, basename)
        else:
            release = await self.get_release(owner, package, version)
            basenames = [f.basename for f in release.files if f.type == "pypi"]
            if not basenames:
                raise NotFound(f"{owner}/{package} {version} has no Python distributions")
        return package, [await self.set_yanked(owner, package, version, b, yanked, reason) for b in basenames]

    async def _release_blobs(self, files: list[StoredFile]) -> None:
        """Delete content blobs no remaining file references (several files may share one)."""
        for sha in sorted({f.sha256 for f in files}):
            async with self._blob_lock(sha):
                if not await self.store.sha256_in_use(sha):
                    await self.blobs.delete(content_key(sha))

    # --- staged upload --------------------------------------------------------------
    async def stage(
        self,
        owner: str,
        package: str,
        version: str,
        basename: str,
        *,
        distribution_type: str,
        sha256: str,
        description: str = "",
        attrs_json: str = "",
        dependencies_json: str = "",
        labels: list[str] | tuple[str, ...] = (),
        form_post_url: str = "",
    ) -> StageResult:
        names.validate_file_ref(owner, package, version, basename)
        if distribution_type not in FILE_TYPES:
            raise Invalid(f"unknown distribution type {distribution_type!r} (expected one of {', '.join(FILE_TYPES)})")
        # Older clients (anaconda-client 1.2.2) announce no sha256, only Content-MD5 and
        # Content-Length in the form: the digest is then computed at commit, as it is to verify one.
        sha256 = (sha256 or "").lower()
        if sha256 and not _SHA256.match(sha256):
            raise Invalid("sha256 must be the 64 hexadecimal digits of the file's SHA-256")
        label_list = names.validate_labels(list(labels))
        await self.labels.require_unlocked(owner, label_list)
        attrs = _json_object("attrs", attrs_json)
        deps = _json_object("dependencies", dependencies_json)
        self._subdir(distribution_type, basename, attrs)  # refuse a bad conda subdir now, not at commit
        await self._package(owner, package)
        if distribution_type == "pypi":
            await self._refuse_pypi_name_clash(owner, package)
        if await self.store.get_release(owner, package, version) is None:
            raise NotFound("Release not found")
        existing = await self.store.get_file(owner, package, version, basename)
        if existing is not None and existing.sha256 != sha256:  # without a sha256 a retry cannot be told apart
            raise Conflict(f"file {basename} already exists for package {package} version {version}")

        key = UPLOAD_PREFIX + secrets.token_urlsafe(32)
        if self.blobs.supports_presigned:
            post = await self.blobs.presigned_post(key, max_size=self.settings.max_upload_bytes, expires_s=self.settings.stage_ttl_s)
            post_url, form_data = post.url, list(post.fields)
        else:
            if not form_post_url:
                raise Invalid("form_post_url is required: this blob store cannot presign uploads")
            post_url, form_data = form_post_url, [("key", key), ("success_action_status", "201")]
        t = now_ms()
        stage = StagedUpload(
            dist_id=uuid.uuid4().hex, owner=owner, package=package, version=version, basename=basename, upload_key=key,
            distribution_type=distribution_type, sha256=sha256, labels=tuple(label_list), expires_at_ms=t + self.settings.stage_ttl_s * 1000,
            description=description or "", attrs_json=json.dumps(attrs), dependencies_json=json.dumps(deps) if dependencies_json else "",
            created_at_ms=t,
        )
        await self.store.put_stage(stage)
        return StageResult(stage.dist_id, post_url, form_data)

    async def _refuse_pypi_name_clash(self, owner: str, package: str) -> None:
        # pip only knows normalized names: two spellings of one project would share one page
        from .inspectors.pypi import name_clash

        other = name_clash(package, [p.name for p in await self.store.list_packages(owner)])
        if other is not None:
            raise Invalid(
                f"package name {package!r} normalizes to the same Python project name as {owner}'s existing package "
                f"{other!r}; upload it under {other!r}"
            )

    @staticmethod
    def _subdir(file_type: str, basename: str, attrs: dict[str, Any]) -> str:
        if file_type != "conda":
            return ""
        subdir = attrs.get("subdir")
        if not subdir and "/" in basename:
            subdir = basename.split("/", 1)[0]
        if not isinstance(subdir, str) or not _SUBDIR.match(subdir):
            raise Invalid(f"conda upload needs a valid attrs.subdir (e.g. linux-64 or noarch), got {subdir!r}")
        return subdir

    async def grant_form_upload(self, key: str) -> FormGrant:
        stage = await self.store.get_stage_by_key(key) if key.startswith(UPLOAD_PREFIX) else None
        if stage is None or stage.state != "staged" or stage.expires_at_ms <= now_ms():
            raise NotFound("no open staged upload for this key")
        return FormGrant(blob_key=stage.upload_key, max_size=self.settings.max_upload_bytes)

    async def commit(self, owner: str, package: str, version: str, basename: str, dist_id: str) -> FileView:
        names.validate_file_ref(owner, package, version, basename)
        stage = await self.store.get_stage(dist_id) if dist_id else None
        if stage is None or (stage.owner, stage.package, stage.version, stage.basename) != (owner, package, version, basename):
            raise NotFound(f"no staged upload {dist_id!r} for {owner}/{package}/{version}/{basename}")
        pkg = await self._package(owner, package)

        existing = await self.store.get_file(owner, package, version, basename)
        if existing is not None:
            if existing.sha256 == stage.sha256 or not stage.sha256 and stage.state == STAGE_COMMITTED:
                # A retried upload of the same bytes (or a retried commit): already done.
                await self._finish_stage(stage)
                return FileView(existing, pkg.public)
            raise Conflict(f"file {basename} already exists for package {package} version {version}")
        if stage.state == STAGE_COMMITTED:
            raise NotFound(f"no staged upload {dist_id!r} for {owner}/{package}/{version}/{basename} (already committed)")
        if stage.expires_at_ms <= now_ms():
            raise NotFound(f"no staged upload {dist_id!r} for {owner}/{package}/{version}/{basename} (it expired)")
        await self.labels.require_unlocked(owner, stage.labels)

        size, sha256, md5, blake2 = await self._digest(stage.upload_key)
        if size > self.settings.max_upload_bytes:
            await self.blobs.delete(stage.upload_key)
            raise TooLarge(f"the uploaded file is {size} bytes, more than the limit of {self.settings.max_upload_bytes}")
        if stage.sha256 and sha256 != stage.sha256:
            await self.blobs.delete(stage.upload_key)
            raise Invalid(f"checksum mismatch: the uploaded file has sha256 {sha256}, the stage announced {stage.sha256}; upload it again")

        client_attrs = json.loads(stage.attrs_json) if stage.attrs_json else {}
        attrs_json, subdir = stage.attrs_json, self._subdir(stage.distribution_type, basename, client_attrs)
        inspector = inspector_for(stage.distribution_type)
        if inspector is not None:
            ctx = UploadContext(owner, package, version, basename, stage.distribution_type, client_attrs, size, sha256)
            try:
                inspection = await inspector.inspect(self.blobs, stage.upload_key, ctx)
            except BaseException:
                # a refused file leaves nothing behind; the client may upload a fixed one
                await self.blobs.delete(stage.upload_key)
                raise
            attrs_json = json.dumps(inspection.attrs, sort_keys=True)
            subdir = inspection.subdir or subdir
            for suffix, data in inspection.sidecars.items():
                await self.blobs.put_bytes(sidecar_key(sha256, suffix), data)

        key = content_key(sha256)
        f = StoredFile(
            owner=owner, package=package, version=version, basename=basename, type=stage.distribution_type,
            subdir=subdir, labels=stage.labels,
            size=size, sha256=sha256, md5=md5, blake2_256=blake2, blob_key=key, attrs_json=attrs_json,
            dependencies_json=stage.dependencies_json, description=stage.description, upload_time_ms=now_ms(),
        )
        event = new_event(owner, file_committed=events_pb2.FileCommitted(file=file_record(f, package_public=pkg.public)))
        async with self._blob_lock(sha256):
            if not await self.blobs.exists(key):
                await self.blobs.copy(stage.upload_key, key)
            try:
                await self.store.add_file(f, event, package_type=stage.distribution_type, modified_at_ms=f.upload_time_ms, commit_dist_id=dist_id,
                                          audit_entries=[audit.entry(owner, "file.upload", f"{owner}/{package}/{version}/{basename}")])
            except Conflict:
                # A concurrent commit of this basename won. The same bytes: this upload is
                # done too (as a sequential retry would be); other bytes: the 409 stands.
                winner = await self.store.get_file(owner, package, version, basename)
                if winner is not None and winner.sha256 == sha256:
                    await self._finish_stage(stage)
                    return FileView(winner, pkg.public)
                if not await self.store.sha256_in_use(sha256):
                    await self.blobs.delete(key)
                raise
            except BaseException:
                if not await self.store.sha256_in_use(sha256):
                    await self.blobs.delete(key)
                raise
        self._notify()
        await self.blobs.delete(stage.upload_key)
        return FileView(f, pkg.public)

    async def bulk_import(self, files: list[StoredFile], *, public: bool = True) -> int:
        """Many file records at once, without events (benchmarks, migrations): rebuild the
        owner's indexes afterwards. The records are trusted as given (an operator path)."""
        for f in files:
            names.validate_file_ref(f.owner, f.package, f.version, f.basename)
            if f.type not in FILE_TYPES:
                raise Invalid(f"unknown file type {f.type!r}")
        return await self.store.bulk_add_files(files, public=public)

    async def list_audit(self, query: AuditQuery) -> list[AuditEntry]:
        """The owner's entries (RegistryStore.list_audit); the caller decided who may read them."""
        names.validate_owner(query.owner)
        return await self.store.list_audit(query)

    async def _finish_stage(self, stage: StagedUpload) -> None:
        if stage.state != STAGE_COMMITTED:
            await self.store.mark_stage_committed(stage.dist_id)
        await self.blobs.delete(stage.upload_key)

    async def _digest(self, key: str) -> tuple[int, str, str, str]:
        """Size and digests of a blob, streamed (memory stays flat whatever its size)."""
        sha256, md5, blake2 = hashlib.sha256(), hashlib.md5(), hashlib.blake2b(digest_size=32)
        size = 0

        def update(chunk: bytes) -> None:
            # hashlib releases the GIL on large buffers: hashing in a thread keeps the loop free
            sha256.update(chunk)
            md5.update(chunk)
            blake2.update(chunk)

        try:
            async for chunk in self.blobs.open(key):
                size += len(chunk)
                await asyncio.to_thread(update, chunk)
        except BlobNotFound:
            raise Invalid("no file was uploaded for this stage") from None
        return size, sha256.hexdigest(), md5.hexdigest(), blake2.hexdigest()

    async def cleanup_stages(self) -> int:
        """Forget expired stages, deleting their upload blobs and any upload blob that no
        stage owns any more (left behind by a crash), and collect the blob store's temporary
        and partial blobs untouched for a stage TTL (writes of a killed gateway, registry or
        index-svc; no write in progress is that old). Returns how many blobs were removed."""
        removed = await self.blobs.collect_temporary(self.settings.stage_ttl_s)
        while True:
            expired = await self.store.expired_stages(now_ms())
            for stage in expired:
                if stage.state != STAGE_COMMITTED:
                    await self.blobs.delete(stage.upload_key)
                    removed += 1
                await self.store.delete_stage(stage.dist_id)
            if len(expired) < 100:
                break
        async for key in self.blobs.list(UPLOAD_PREFIX):
            if await self.store.get_stage_by_key(key) is None:
                await self.blobs.delete(key)
                removed += 1
        return removed


class StageJanitor(PeriodicTask):
    """Runs RegistryCore.cleanup_stages periodically."""

    name = "stage-janitor"

    def __init__(self, core: RegistryCore, interval_s: float = 60.0):
        super().__init__(interval_s)
        self.core = core

    async def run_once(self) -> int:
        n = await self.core.cleanup_stages()
        if n:
            log.info("removed %d abandoned upload blobs", n)
        return n
