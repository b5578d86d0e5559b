"""SqliteRegistryStore: the embedded default. Each announced change and its outbox row are
written in one BEGIN IMMEDIATE transaction on the single writer connection; `seq` order is
commit order because writers are serialized."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit import audit
from pkgcloud_servicekit.audit import AuditEntry, AuditQuery
from pkgcloud_servicekit.errors import Conflict, NotFound
from pkgcloud_servicekit.events import encode
from pkgcloud_servicekit.sqlite_db import SqliteDatabase

from .interfaces import (
    STAGE_COMMITTED,
    EnsuredRelease,
    FilesRemovalEvents,
    PackageRecord,
    PackageRemovalEvents,
    PendingEvent,
    RegistryStore,
    ReleaseRecord,
    StagedUpload,
    StoredFile,
    best_project_match,
    project_key,
)

MIGRATIONS = [
    """
    CREATE TABLE packages (
        id INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        public INTEGER NOT NULL,
        summary TEXT NOT NULL,
        license TEXT NOT NULL,
        package_types TEXT NOT NULL,
        public_attrs TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        modified_at_ms INTEGER NOT NULL,
        UNIQUE (owner, name)
    );
    CREATE TABLE releases (
        id INTEGER PRIMARY KEY,
        package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
        version TEXT NOT NULL,
        attrs TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        UNIQUE (package_id, version)
    );
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
        owner TEXT NOT NULL,
        package TEXT NOT NULL,
        version TEXT NOT NULL,
        basename TEXT NOT NULL,
        type TEXT NOT NULL,
        subdir TEXT NOT NULL,
        labels TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        md5 TEXT NOT NULL,
        blake2_256 TEXT NOT NULL,
        blob_key TEXT NOT NULL,
        attrs_json TEXT NOT NULL,
        dependencies_json TEXT NOT NULL,
        description TEXT NOT NULL,
        upload_time_ms INTEGER NOT NULL,
        download_count INTEGER NOT NULL DEFAULT 0,
        UNIQUE (owner, package, version, basename)
    );
    CREATE INDEX files_release ON files(release_id);
    CREATE INDEX files_sha256 ON files(sha256);
    CREATE TABLE staged_uploads (
        dist_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        package TEXT NOT NULL,
        version TEXT NOT NULL,
        basename TEXT NOT NULL,
        upload_key TEXT NOT NULL UNIQUE,
        distribution_type TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        labels TEXT NOT NULL,
        description TEXT NOT NULL,
        attrs_json TEXT NOT NULL,
        dependencies_json TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        state TEXT NOT NULL
    );
    CREATE INDEX staged_expiry ON staged_uploads(expires_at_ms);
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        owner TEXT NOT NULL,
        payload BLOB NOT NULL,
        created_at_ms INTEGER NOT NULL,
        sent_at_ms INTEGER
    );
    CREATE INDEX outbox_pending ON outbox(seq) WHERE sent_at_ms IS NULL
    """,
    # conda labels (issue 3): which labels of an owner refuse uploads and label changes
    """
    CREATE TABLE label_locks (
        owner TEXT NOT NULL,
        label TEXT NOT NULL,
        PRIMARY KEY (owner, label)
    );
    CREATE INDEX files_owner_type ON files(owner, type)
    """,
    # PyPI yanking (issue 4, PEP 592)
    """
    ALTER TABLE files ADD COLUMN yanked INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN yanked_reason TEXT NOT NULL DEFAULT ''
    """,
    # private packages (issue 5): each package's authorized users; removed with the package
    """
    CREATE TABLE package_collaborators (
        package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
        login TEXT NOT NULL,
        added_at_ms INTEGER NOT NULL,
        PRIMARY KEY (package_id, login)
    );
    CREATE INDEX package_collaborators_login ON package_collaborators(login, package_id)
    """,
    # the audit trail (issue 11): who changed what, written in the transaction of each change
    audit.SQLITE_TABLE,
]

_FILE_COLS = (
    "owner, package, version, basename, type, subdir, labels, size, sha256, md5, blake2_256, blob_key, "
    "attrs_json, dependencies_json, description, upload_time_ms, download_count, yanked, yanked_reason"
)
_PKG_COLS = "owner, name, public, summary, license, package_types, public_attrs, created_at_ms, modified_at_ms"
_STAGE_COLS = (
    "dist_id, owner, package, version, basename, upload_key, distribution_type, sha256, labels, description, "
    "attrs_json, dependencies_json, created_at_ms, expires_at_ms, state"
)
# A package name without its separators: equal for every spelling of one PEP 503 project
# name (a cheap SQL filter; best_project_match decides).
_SQUASHED_NAME = "replace(replace(replace(lower(name), '-', ''), '_', ''), '.', '')"
# Sent rows are kept a while for inspection, then purged by the relay's mark_sent.
_SENT_RETENTION_MS = 24 * 3600 * 1000


def _pkg(row: Any) -> PackageRecord:
    return PackageRecord(
        owner=row["owner"], name=row["name"], public=bool(row["public"]), summary=row["summary"], license=row["license"],
        package_types=tuple(json.loads(row["package_types"])), public_attrs=json.loads(row["public_attrs"]),
        created_at_ms=row["created_at_ms"], modified_at_ms=row["modified_at_ms"],
    )


def _rel(row: Any, owner: str, package: str) -> ReleaseRecord:
    return ReleaseRecord(owner=owner, package=package, version=row["version"], attrs=json.loads(row["attrs"]), created_at_ms=row["created_at_ms"])


def _file(row: Any) -> StoredFile:
    d = {k: row[k] for k in row.keys() if k not in ("id", "release_id")}
    d["labels"] = tuple(json.loads(d["labels"]))
    d["yanked"] = bool(d["yanked"])
    return StoredFile(**d)


def _stage(row: Any) -> StagedUpload:
    d = {k: row[k] for k in row.keys()}
    d["labels"] = tuple(json.loads(d["labels"]))
    return StagedUpload(**d)


async def _one(conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> Any:
    async with conn.execute(sql, params) as cur:
        return await cur.fetchone()


async def _all(conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    async with conn.execute(sql, params) as cur:
        return list(await cur.fetchall())


async def _insert_events(conn: aiosqlite.Connection, events: Sequence[events_pb2.Event]) -> None:
    for ev in events:
        await conn.execute(
            "INSERT INTO outbox (event_id, type, owner, payload, created_at_ms) VALUES (?, ?, ?, ?, ?)",
            (ev.id, ev.type, ev.owner, encode(ev), ev.occurred_at_ms or int(time.time() * 1000)),
        )


class SqliteRegistryStore(RegistryStore):
    def __init__(self, path: Path | str):
        self.db = SqliteDatabase(path, MIGRATIONS)

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()

    # --- packages -------------------------------------------------------------------
    async def create_package(self, pkg: PackageRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> PackageRecord:
        try:
            async with self.db.transaction() as conn:
                await conn.execute(
                    f"INSERT INTO packages ({_PKG_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (pkg.owner, pkg.name, int(pkg.public), pkg.summary, pkg.license, json.dumps(list(pkg.package_types)),
                     json.dumps(pkg.public_attrs), pkg.created_at_ms, pkg.modified_at_ms),
                )
                await audit.sqlite_insert(conn, audit_entries)
        except aiosqlite.IntegrityError:
            raise Conflict(f"package {pkg.owner}/{pkg.name} already exists") from None
        return pkg

    async def get_package(self, owner: str, name: str) -> PackageRecord | None:
        row = await self.db.fetchone(f"SELECT {_PKG_COLS} FROM packages WHERE owner = ? AND name = ?", (owner, name))
        return _pkg(row) if row else None

    async def list_packages(self, owner: str) -> list[PackageRecord]:
        rows = await self.db.fetchall(f"SELECT {_PKG_COLS} FROM packages WHERE owner = ? ORDER BY name", (owner,))
        return [_pkg(r) for r in rows]

    async def find_project(self, owner: str, name: str) -> PackageRecord | None:
        return best_project_match(name, [_pkg(r) for r in await self.db.fetchall(*self._project_query(owner, name))])

    @staticmethod
    def _project_query(owner: str, name: str) -> tuple[str, tuple[str, str]]:
        squashed = project_key(name).replace("-", "")
        return f"SELECT id, {_PKG_COLS} FROM packages WHERE owner = ? AND {_SQUASHED_NAME} = ?", (owner, squashed)

    async def ensure_release(
        self, pkg: PackageRecord, rel: ReleaseRecord, *, package_audit: Sequence[AuditEntry] = (),
        release_audit: Sequence[AuditEntry] = (),
    ) -> EnsuredRelease:
        # One BEGIN IMMEDIATE transaction: writers (of every process on the file) are
        # serialized, so the lookup and the inserts cannot interleave with another upload's.
        async with self.db.transaction() as conn:
            rows = await _all(conn, *self._project_query(pkg.owner, pkg.name))
            found = best_project_match(pkg.name, [_pkg(r) for r in rows])
            package_created = found is None
            if found is None:
                cur = await conn.execute(
                    f"INSERT INTO packages ({_PKG_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (pkg.owner, pkg.name, int(pkg.public), pkg.summary, pkg.license, json.dumps(list(pkg.package_types)),
                     json.dumps(pkg.public_attrs), pkg.created_at_ms, pkg.modified_at_ms),
                )
                await audit.sqlite_insert(conn, package_audit)
                found, package_id = pkg, cur.lastrowid
            elif found.name != pkg.name:
                return EnsuredRelease(found, None)
            else:
                package_id = next(r["id"] for r in rows if r["name"] == found.name)
            row = await _one(conn, "SELECT version, attrs, created_at_ms FROM releases WHERE package_id = ? AND version = ?",
                             (package_id, rel.version))
            if row is not None:
                return EnsuredRelease(found, _rel(row, found.owner, found.name), package_created, False)
            await conn.execute(
                "INSERT INTO releases (package_id, version, attrs, created_at_ms) VALUES (?, ?, ?, ?)",
                (package_id, rel.version, json.dumps(rel.attrs), rel.created_at_ms),
            )
            await audit.sqlite_insert(conn, release_audit)
        return EnsuredRelease(found, rel, package_created, True)

    async def update_package(self, owner: str, name: str, *, audit_entries: Sequence[AuditEntry] = (), **changes: Any) -> PackageRecord | None:
        cols = {
            "public": lambda v: int(v), "summary": str, "license": str, "modified_at_ms": int,
            "package_types": lambda v: json.dumps(list(v)), "public_attrs": json.dumps,
        }
        unknown = set(changes) - set(cols)
        if unknown:
            raise TypeError(f"cannot update {sorted(unknown)}")
        if changes:
            sets = ", ".join(f"{k} = ?" for k in changes)
            params = [cols[k](v) for k, v in changes.items()]
            async with self.db.transaction() as conn:
                cur = await conn.execute(f"UPDATE packages SET {sets} WHERE owner = ? AND name = ?", (*params, owner, name))
                if cur.rowcount > 0:
                    await audit.sqlite_insert(conn, audit_entries)
        return await self.get_package(owner, name)

    async def delete_package(self, owner: str, name: str, make_events: PackageRemovalEvents, *, audit_entries: Sequence[AuditEntry] = ()) -> list[StoredFile] | None:
        async with self.db.transaction() as conn:
            row = await _one(conn, f"SELECT id, {_PKG_COLS} FROM packages WHERE owner = ? AND name = ?", (owner, name))
            if row is None:
                return None
            files = [_file(r) for r in await _all(conn, f"SELECT {_FILE_COLS} FROM files WHERE owner = ? AND package = ? ORDER BY id", (owner, name))]
            await _insert_events(conn, make_events(_pkg(row), files))
            await audit.sqlite_insert(conn, audit_entries)
            # releases and files go with it (ON DELETE CASCADE)
            await conn.execute("DELETE FROM packages WHERE id = ?", (row["id"],))
        return files

    # --- releases -------------------------------------------------------------------
    async def create_release(self, rel: ReleaseRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> ReleaseRecord:
        async with self.db.transaction() as conn:
            pkg = await _one(conn, "SELECT id FROM packages WHERE owner = ? AND name = ?", (rel.owner, rel.package))
            if pkg is None:
                raise NotFound("Package not found")
            try:
                await conn.execute(
                    "INSERT INTO releases (package_id, version, attrs, created_at_ms) VALUES (?, ?, ?, ?)",
                    (pkg["id"], rel.version, json.dumps(rel.attrs), rel.created_at_ms),
                )
            except aiosqlite.IntegrityError:
                raise Conflict(f"release {rel.owner}/{rel.package}/{rel.version} already exists") from None
            await audit.sqlite_insert(conn, audit_entries)
        return rel

    _REL_SQL = (
        "SELECT r.id, r.version, r.attrs, r.created_at_ms FROM releases r JOIN packages p ON p.id = r.package_id "
        "WHERE p.owner = ? AND p.name = ?"
    )

    async def get_release(self, owner: str, package: str, version: str) -> ReleaseRecord | None:
        row = await self.db.fetchone(self._REL_SQL + " AND r.version = ?", (owner, package, version))
        return _rel(row, owner, package) if row else None

    async def list_releases(self, owner: str, package: str) -> list[ReleaseRecord]:
        rows = await self.db.fetchall(self._REL_SQL + " ORDER BY r.created_at_ms, r.id", (owner, package))
        return [_rel(r, owner, package) for r in rows]

    async def update_release(self, owner: str, package: str, version: str, attrs: dict[str, Any], *, audit_entries: Sequence[AuditEntry] = ()) -> ReleaseRecord | None:
        async with self.db.transaction() as conn:
            row = await _one(conn, self._REL_SQL + " AND r.version = ?", (owner, package, version))
            if row is None:
                return None
            await conn.execute("UPDATE releases SET attrs = ? WHERE id = ?", (json.dumps(attrs), row["id"]))
            await audit.sqlite_insert(conn, audit_entries)
        return await self.get_release(owner, package, version)

    async def delete_release(self, owner: str, package: str, version: str, make_events: FilesRemovalEvents, *, audit_entries: Sequence[AuditEntry] = ()) -> list[StoredFile] | None:
        async with self.db.transaction() as conn:
            row = await _one(conn, self._REL_SQL + " AND r.version = ?", (owner, package, version))
            if row is None:
                return None
            pkg = _pkg(await _one(conn, f"SELECT {_PKG_COLS} FROM packages WHERE owner = ? AND name = ?", (owner, package)))
            files = [_file(r) for r in await _all(conn, f"SELECT {_FILE_COLS} FROM files WHERE release_id = ? ORDER BY id", (row["id"],))]
            await _insert_events(conn, make_events(pkg, files))
            await audit.sqlite_insert(conn, audit_entries)
            await conn.execute("DELETE FROM releases WHERE id = ?", (row["id"],))
        return files

    # --- files ----------------------------------------------------------------------
    async def get_file(self, owner: str, package: str, version: str, basename: str) -> StoredFile | None:
        row = await self.db.fetchone(
            f"SELECT {_FILE_COLS} FROM files WHERE owner = ? AND package = ? AND version = ? AND basename = ?",
            (owner, package, version, basename),
        )
        return _file(row) if row else None

    async def list_files(self, owner: str, package: str, version: str | None = None) -> list[StoredFile]:
        if version is None:
            rows = await self.db.fetchall(f"SELECT {_FILE_COLS} FROM files WHERE owner = ? AND package = ? ORDER BY upload_time_ms, id", (owner, package))
        else:
            rows = await self.db.fetchall(
                f"SELECT {_FILE_COLS} FROM files WHERE owner = ? AND package = ? AND version = ? ORDER BY upload_time_ms, id",
                (owner, package, version),
            )
        return [_file(r) for r in rows]

    async def add_file(
        self, file: StoredFile, event: events_pb2.Event, *, package_type: str, modified_at_ms: int, commit_dist_id: str | None = None,
        audit_entries: Sequence[AuditEntry] = (),
    ) -> StoredFile:
        async with self.db.transaction() as conn:
            rel = await _one(conn, self._REL_SQL + " AND r.version = ?", (file.owner, file.package, file.version))
            if rel is None:
                raise NotFound("Release not found")
            try:
                await conn.execute(
                    f"INSERT INTO files (release_id, {_FILE_COLS}) VALUES ({', '.join('?' * 20)})",
                    (rel["id"], file.owner, file.package, file.version, file.basename, file.type, file.subdir,
                     json.dumps(list(file.labels)), file.size, file.sha256, file.md5, file.blake2_256, file.blob_key,
                     file.attrs_json, file.dependencies_json, file.description, file.upload_time_ms, file.download_count,
                     int(file.yanked), file.yanked_reason),
                )
            except aiosqlite.IntegrityError:
                raise Conflict(f"file {file.basename} already exists for package {file.package} version {file.version}") from None
            pkg = await _one(conn, "SELECT id, package_types FROM packages WHERE owner = ? AND name = ?", (file.owner, file.package))
            types = json.loads(pkg["package_types"])
            if package_type and package_type not in types:
                types.append(package_type)
            await conn.execute(
                "UPDATE packages SET package_types = ?, modified_at_ms = ? WHERE id = ?", (json.dumps(types), modified_at_ms, pkg["id"])
            )
            if commit_dist_id:
                await conn.execute("UPDATE staged_uploads SET state = ? WHERE dist_id = ?", (STAGE_COMMITTED, commit_dist_id))
            await _insert_events(conn, [event])
            await audit.sqlite_insert(conn, audit_entries)
        return file

    async def delete_file(
        self, owner: str, package: str, version: str, basename: str, make_event: Callable[[PackageRecord, StoredFile], events_pb2.Event],
        *, audit_entries: Sequence[AuditEntry] = (),
    ) -> StoredFile | None:
        async with self.db.transaction() as conn:
            row = await _one(
                conn, f"SELECT id, {_FILE_COLS} FROM files WHERE owner = ? AND package = ? AND version = ? AND basename = ?",
                (owner, package, version, basename),
            )
            if row is None:
                return None
            pkg = _pkg(await _one(conn, f"SELECT {_PKG_COLS} FROM packages WHERE owner = ? AND name = ?", (owner, package)))
            f = _file(row)
            await _insert_events(conn, [make_event(pkg, f)])
            await audit.sqlite_insert(conn, audit_entries)
            await conn.execute("DELETE FROM files WHERE id = ?", (row["id"],))
        return f

    async def increment_downloads(self, owner: str, package: str, version: str, basename: str) -> StoredFile | None:
        async with self.db.transaction() as conn:
            row = await _one(
                conn,
                "UPDATE files SET download_count = download_count + 1 "
                f"WHERE owner = ? AND package = ? AND version = ? AND basename = ? RETURNING {_FILE_COLS}",
                (owner, package, version, basename),
            )
        return _file(row) if row else None

    async def sha256_in_use(self, sha256: str) -> bool:
        return await self.db.fetchone("SELECT 1 FROM files WHERE sha256 = ? LIMIT 1", (sha256,)) is not None

    # --- staged uploads -------------------------------------------------------------
    async def put_stage(self, stage: StagedUpload) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO staged_uploads ({_STAGE_COLS}) VALUES ({', '.join('?' * 15)})",
                (stage.dist_id, stage.owner, stage.package, stage.version, stage.basename, stage.upload_key, stage.distribution_type,
                 stage.sha256, json.dumps(list(stage.labels)), stage.description, stage.attrs_json, stage.dependencies_json,
                 stage.created_at_ms, stage.expires_at_ms, stage.state),
            )

    async def get_stage(self, dist_id: str) -> StagedUpload | None:
        row = await self.db.fetchone(f"SELECT {_STAGE_COLS} FROM staged_uploads WHERE dist_id = ?", (dist_id,))
        return _stage(row) if row else None

    async def get_stage_by_key(self, upload_key: str) -> StagedUpload | None:
        row = await self.db.fetchone(f"SELECT {_STAGE_COLS} FROM staged_uploads WHERE upload_key = ?", (upload_key,))
        return _stage(row) if row else None

    async def mark_stage_committed(self, dist_id: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE staged_uploads SET state = ? WHERE dist_id = ?", (STAGE_COMMITTED, dist_id))

    async def expired_stages(self, now_ms: int, limit: int = 100) -> list[StagedUpload]:
        rows = await self.db.fetchall(
            f"SELECT {_STAGE_COLS} FROM staged_uploads WHERE expires_at_ms < ? ORDER BY expires_at_ms LIMIT ?", (now_ms, limit)
        )
        return [_stage(r) for r in rows]

    async def delete_stage(self, dist_id: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM staged_uploads WHERE dist_id = ?", (dist_id,))

    # --- outbox ---------------------------------------------------------------------
    async def pending_events(self, limit: int = 100) -> list[PendingEvent]:
        rows = await self.db.fetchall(
            "SELECT seq, event_id, payload FROM outbox WHERE sent_at_ms IS NULL ORDER BY seq LIMIT ?", (limit,)
        )
        return [PendingEvent(event_id=r["event_id"], payload=bytes(r["payload"]), token=r["seq"]) for r in rows]

    async def mark_sent(self, events: Sequence[PendingEvent]) -> None:
        if not events:
            return
        now = int(time.time() * 1000)
        seqs = [e.token for e in events]
        async with self.db.transaction() as conn:
            await conn.execute(f"UPDATE outbox SET sent_at_ms = ? WHERE seq IN ({', '.join('?' * len(seqs))})", (now, *seqs))
            await conn.execute("DELETE FROM outbox WHERE sent_at_ms IS NOT NULL AND sent_at_ms < ?", (now - _SENT_RETENTION_MS,))

    # for tests and the admin: every outbox row with its state
    async def outbox_rows(self) -> list[dict[str, Any]]:
        rows = await self.db.fetchall("SELECT seq, event_id, type, owner, sent_at_ms FROM outbox ORDER BY seq")
        return [dict(r) for r in rows]

    # --- conda labels (issue 3) -----------------------------------------------------
    async def list_owner_files(self, owner: str, file_type: str = "") -> list[StoredFile]:
        sql = f"SELECT {_FILE_COLS} FROM files WHERE owner = ?"
        params: tuple = (owner,)
        if file_type:
            sql, params = sql + " AND type = ?", (owner, file_type)
        return [_file(r) for r in await self.db.fetchall(sql + " ORDER BY package, version, basename", params)]

    async def set_file_labels(
        self, owner: str, package: str, version: str, basename: str, labels: tuple[str, ...],
        make_event: Callable[[PackageRecord, StoredFile, tuple[str, ...]], events_pb2.Event], *, audit_entries: Sequence[AuditEntry] = (),
    ) -> StoredFile | None:
        async with self.db.transaction() as conn:
            row = await _one(
                conn, f"SELECT id, {_FILE_COLS} FROM files WHERE owner = ? AND package = ? AND version = ? AND basename = ?",
                (owner, package, version, basename),
            )
            if row is None:
                return None
            before = _file(row)
            after = before.with_(labels=tuple(labels))
            pkg = _pkg(await _one(conn, f"SELECT {_PKG_COLS} FROM packages WHERE owner = ? AND name = ?", (owner, package)))
            await conn.execute("UPDATE files SET labels = ? WHERE id = ?", (json.dumps(list(labels)), row["id"]))
            await _insert_events(conn, [make_event(pkg, after, before.labels)])
            await audit.sqlite_insert(conn, audit_entries)
        return after

    async def locked_labels(self, owner: str) -> list[str]:
        rows = await self.db.fetchall("SELECT label FROM label_locks WHERE owner = ? ORDER BY label", (owner,))
        return [r["label"] for r in rows]

    async def set_label_locked(self, owner: str, label: str, locked: bool, *, audit_entries: Sequence[AuditEntry] = ()) -> None:
        async with self.db.transaction() as conn:
            if locked:
                cur = await conn.execute("INSERT OR IGNORE INTO label_locks (owner, label) VALUES (?, ?)", (owner, label))
            else:
                cur = await conn.execute("DELETE FROM label_locks WHERE owner = ? AND label = ?", (owner, label))
            if cur.rowcount > 0:
                await audit.sqlite_insert(conn, audit_entries)

    # --- PyPI yanking (issue 4) -----------------------------------------------------
    async def set_file_yanked(
        self, owner: str, package: str, version: str, basename: str, yanked: bool, reason: str,
        make_event: Callable[[PackageRecord, StoredFile], events_pb2.Event], *, audit_entries: Sequence[AuditEntry] = (),
    ) -> StoredFile | None:
        async with self.db.transaction() as conn:
            row = await _one(
                conn, f"SELECT id, {_FILE_COLS} FROM files WHERE owner = ? AND package = ? AND version = ? AND basename = ?",
                (owner, package, version, basename),
            )
            if row is None:
                return None
            after = _file(row).with_(yanked=yanked, yanked_reason=reason)
            pkg = _pkg(await _one(conn, f"SELECT {_PKG_COLS} FROM packages WHERE owner = ? AND name = ?", (owner, package)))
            await conn.execute("UPDATE files SET yanked = ?, yanked_reason = ? WHERE id = ?", (int(yanked), reason, row["id"]))
            await _insert_events(conn, [make_event(pkg, after)])
            await audit.sqlite_insert(conn, audit_entries)
        return after

    async def bulk_add_files(self, files: Sequence[StoredFile], *, public: bool = True) -> int:
        inserted = 0
        now = int(time.time() * 1000)
        async with self.db.transaction() as conn:
            pkg_ids: dict[tuple[str, str], int] = {}
            rel_ids: dict[tuple[str, str, str], int] = {}
            for f in files:
                pk = (f.owner, f.package)
                if pk not in pkg_ids:
                    await conn.execute(
                        f"INSERT OR IGNORE INTO packages ({_PKG_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (f.owner, f.package, int(public), "", "", json.dumps([f.type]), "{}", now, now),
                    )
                    pkg_ids[pk] = (await _one(conn, "SELECT id FROM packages WHERE owner = ? AND name = ?", pk))["id"]
                rk = (f.owner, f.package, f.version)
                if rk not in rel_ids:
                    await conn.execute(
                        "INSERT OR IGNORE INTO releases (package_id, version, attrs, created_at_ms) VALUES (?, ?, '{}', ?)",
                        (pkg_ids[pk], f.version, now),
                    )
                    rel_ids[rk] = (await _one(conn, "SELECT id FROM releases WHERE package_id = ? AND version = ?", (pkg_ids[pk], f.version)))["id"]
                cur = await conn.execute(
                    f"INSERT OR IGNORE INTO files (release_id, {_FILE_COLS}) VALUES ({', '.join('?' * 20)})",
                    (rel_ids[rk], f.owner, f.package, f.version, f.basename, f.type, f.subdir,
                     json.dumps(list(f.labels)), f.size, f.sha256, f.md5, f.blake2_256, f.blob_key,
                     f.attrs_json, f.dependencies_json, f.description, f.upload_time_ms or now, f.download_count,
                     int(f.yanked), f.yanked_reason),
                )
                inserted += cur.rowcount
        return inserted

    # --- private packages and authorized users (issue 5) ------------------------------
    async def set_package_public(
        self, owner: str, name: str, public: bool, modified_at_ms: int,
        make_event: Callable[[PackageRecord, list[StoredFile]], events_pb2.Event], *, audit_entries: Sequence[AuditEntry] = (),
    ) -> PackageRecord | None:
        async with self.db.transaction() as conn:
            row = await _one(conn, f"SELECT id, {_PKG_COLS} FROM packages WHERE owner = ? AND name = ?", (owner, name))
            if row is None:
                return None
            if bool(row["public"]) == public:
                return _pkg(row)
            await conn.execute("UPDATE packages SET public = ?, modified_at_ms = ? WHERE id = ?", (int(public), modified_at_ms, row["id"]))
            after = _pkg(await _one(conn, f"SELECT {_PKG_COLS} FROM packages WHERE id = ?", (row["id"],)))
            files = [_file(r) for r in await _all(conn, f"SELECT {_FILE_COLS} FROM files WHERE owner = ? AND package = ? ORDER BY id", (owner, name))]
            await _insert_events(conn, [make_event(after, files)])
            await audit.sqlite_insert(conn, audit_entries)
        return after

    async def list_collaborators(self, owner: str, name: str) -> list[str] | None:
        row = await self.db.fetchone("SELECT id FROM packages WHERE owner = ? AND name = ?", (owner, name))
        if row is None:
            return None
        rows = await self.db.fetchall("SELECT login FROM package_collaborators WHERE package_id = ? ORDER BY login", (row["id"],))
        return [r["login"] for r in rows]

    async def _change_collaborator(self, owner: str, name: str, login: str, add: bool, entries: Sequence[AuditEntry]) -> list[str] | None:
        async with self.db.transaction() as conn:
            row = await _one(conn, "SELECT id FROM packages WHERE owner = ? AND name = ?", (owner, name))
            if row is None:
                return None
            if add:
                cur = await conn.execute(
                    "INSERT OR IGNORE INTO package_collaborators (package_id, login, added_at_ms) VALUES (?, ?, ?)",
                    (row["id"], login, int(time.time() * 1000)),
                )
            else:
                cur = await conn.execute("DELETE FROM package_collaborators WHERE package_id = ? AND login = ?", (row["id"], login))
            if cur.rowcount > 0:
                await audit.sqlite_insert(conn, entries)
            rows = await _all(conn, "SELECT login FROM package_collaborators WHERE package_id = ? ORDER BY login", (row["id"],))
        return [r["login"] for r in rows]

    async def add_collaborator(self, owner: str, name: str, login: str, *, audit_entries: Sequence[AuditEntry] = ()) -> list[str] | None:
        return await self._change_collaborator(owner, name, login, True, audit_entries)

    async def remove_collaborator(self, owner: str, name: str, login: str, *, audit_entries: Sequence[AuditEntry] = ()) -> list[str] | None:
        return await self._change_collaborator(owner, name, login, False, audit_entries)

    async def collaborations(self, login: str, owner: str) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT p.name FROM package_collaborators c JOIN packages p ON p.id = c.package_id "
            "WHERE c.login = ? AND p.owner = ? ORDER BY p.name",
            (login, owner),
        )
        return [r["name"] for r in rows]

    async def search_packages(self, name: str, limit: int, *, newest_first: bool = False,
                              public_only: bool = False) -> list[PackageRecord]:
        pattern = "%" + name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        only_public = " AND public = 1" if public_only else ""
        order = "modified_at_ms DESC, owner, name" if newest_first else "owner, name"
        rows = await self.db.fetchall(
            f"SELECT {_PKG_COLS} FROM packages WHERE lower(name) LIKE ? ESCAPE '\\'{only_public} ORDER BY {order} LIMIT ?",
            (pattern, limit),
        )
        return [_pkg(r) for r in rows]

    # --- audit trail (issue 11) -----------------------------------------------------
    async def list_audit(self, query: AuditQuery) -> list[AuditEntry]:
        return await audit.sqlite_list(self.db, query)

    async def purge_audit(self, before_ms: int) -> int:
        return await audit.sqlite_purge(self.db, before_ms)
