"""AuthStore on the embedded SQLite database (servicekit's SqliteDatabase)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from pkgcloud_servicekit import audit
from pkgcloud_servicekit.audit import AuditEntry, AuditQuery
from pkgcloud_servicekit.errors import Conflict, NotFound
from pkgcloud_servicekit.sqlite_db import SqliteDatabase

from ..records import GroupRecord, RevokeSelector, TokenRecord, UserRecord
from .interfaces import AuthStore

MIGRATIONS = [
    # 1: users and tokens
    """
    CREATE TABLE users (
        login TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        user_type TEXT NOT NULL DEFAULT 'user',
        description TEXT NOT NULL DEFAULT '',
        disabled INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        login TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
        token_sha256 TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        scopes TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL DEFAULT 0,
        hostname TEXT NOT NULL DEFAULT '',
        remote_addr TEXT NOT NULL DEFAULT '',
        last_used_ms INTEGER NOT NULL DEFAULT 0,
        revoked_at_ms INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX tokens_by_login ON tokens(login, revoked_at_ms, created_at_ms);
    """,
    # 2: organizations' groups, their members and packages
    """
    CREATE TABLE groups (
        org TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
        name TEXT NOT NULL,
        permission TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        PRIMARY KEY (org, name)
    );
    CREATE TABLE group_members (
        org TEXT NOT NULL,
        grp TEXT NOT NULL,
        login TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
        PRIMARY KEY (org, grp, login),
        FOREIGN KEY (org, grp) REFERENCES groups(org, name) ON DELETE CASCADE
    );
    CREATE INDEX group_members_by_login ON group_members(login);
    CREATE TABLE group_packages (
        org TEXT NOT NULL,
        grp TEXT NOT NULL,
        package TEXT NOT NULL,
        PRIMARY KEY (org, grp, package),
        FOREIGN KEY (org, grp) REFERENCES groups(org, name) ON DELETE CASCADE
    );
    """,
    # 3: the audit trail (who changed what), written in the transaction of each change
    audit.SQLITE_TABLE,
]

_USER_COLUMNS = "login, email, password_hash, created_at_ms, name, user_type, description, disabled"
_TOKEN_COLUMNS = (
    "id, login, token_sha256, name, scopes, created_at_ms, expires_at_ms, hostname, remote_addr, last_used_ms, revoked_at_ms"
)


def _user(row) -> UserRecord:
    return UserRecord(
        login=row["login"], email=row["email"], password_hash=row["password_hash"],
        created_at_ms=row["created_at_ms"], name=row["name"], user_type=row["user_type"],
        description=row["description"], disabled=bool(row["disabled"]),
    )


def _token(row) -> TokenRecord:
    return TokenRecord(
        id=row["id"], login=row["login"], token_sha256=row["token_sha256"], name=row["name"],
        scopes=tuple(json.loads(row["scopes"])), created_at_ms=row["created_at_ms"],
        expires_at_ms=row["expires_at_ms"], hostname=row["hostname"], remote_addr=row["remote_addr"],
        last_used_ms=row["last_used_ms"], revoked_at_ms=row["revoked_at_ms"],
    )


class SqliteAuthStore(AuthStore):
    def __init__(self, path: Path | str):
        self.db = SqliteDatabase(path, MIGRATIONS)

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()

    async def create_user(self, user: UserRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> None:
        try:
            async with self.db.transaction() as conn:
                await conn.execute(
                    f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (user.login, user.email, user.password_hash, user.created_at_ms, user.name,
                     user.user_type, user.description, int(user.disabled)),
                )
                await audit.sqlite_insert(conn, audit_entries)
        except sqlite3.IntegrityError as e:
            raise Conflict(f"login {user.login!r} is already taken") from e

    async def get_user(self, login: str) -> UserRecord | None:
        row = await self.db.fetchone(f"SELECT {_USER_COLUMNS} FROM users WHERE login = ?", (login,))
        return _user(row) if row else None

    async def set_password_hash(self, login: str, password_hash: str, *, audit_entries: Sequence[AuditEntry] = ()) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute("UPDATE users SET password_hash = ? WHERE login = ?", (password_hash, login))
            if cur.rowcount > 0:
                await audit.sqlite_insert(conn, audit_entries)
            return cur.rowcount > 0

    async def set_disabled(self, login: str, disabled: bool, *, audit_entries: Sequence[AuditEntry] = ()) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute("UPDATE users SET disabled = ? WHERE login = ?", (int(disabled), login))
            if cur.rowcount > 0:
                await audit.sqlite_insert(conn, audit_entries)
            return cur.rowcount > 0

    async def create_token(self, token: TokenRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> None:
        try:
            async with self.db.transaction() as conn:
                await conn.execute(
                    f"INSERT INTO tokens ({_TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (token.id, token.login, token.token_sha256, token.name, json.dumps(list(token.scopes)),
                     token.created_at_ms, token.expires_at_ms, token.hostname, token.remote_addr,
                     token.last_used_ms, token.revoked_at_ms),
                )
                await audit.sqlite_insert(conn, audit_entries)
        except sqlite3.IntegrityError as e:
            if "FOREIGN KEY" in str(e):
                raise NotFound(f"no user {token.login!r}") from e
            raise Conflict("token id or hash already exists") from e

    async def get_token_by_hash(self, token_sha256: str) -> TokenRecord | None:
        row = await self.db.fetchone(f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE token_sha256 = ?", (token_sha256,))
        return _token(row) if row else None

    async def list_tokens(self, login: str) -> list[TokenRecord]:
        rows = await self.db.fetchall(
            f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE login = ? AND revoked_at_ms = 0 ORDER BY created_at_ms, id",
            (login,),
        )
        return [_token(r) for r in rows]

    async def touch_token(self, token_id: str, now_ms: int, min_interval_ms: int) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE tokens SET last_used_ms = ? WHERE id = ? AND last_used_ms <= ?",
                (now_ms, token_id, now_ms - min_interval_ms),
            )
            return cur.rowcount > 0

    async def revoke_tokens(self, login: str, selector: RevokeSelector, now_ms: int, *,
                            audit_of: Callable[[TokenRecord], AuditEntry] | None = None) -> list[TokenRecord]:
        if selector.token_sha256:
            where, arg = "token_sha256 = ?", selector.token_sha256
        elif selector.token_id:
            where, arg = "id = ?", selector.token_id
        elif selector.name:
            where, arg = "name = ?", selector.name
        else:
            return []
        async with self.db.transaction() as conn:
            # Read and update inside one BEGIN IMMEDIATE: the returned list is exactly what
            # this call revoked, even with concurrent revocations.
            async with conn.execute(
                f"SELECT {_TOKEN_COLUMNS} FROM tokens WHERE login = ? AND revoked_at_ms = 0 AND {where}",
                (login, arg),
            ) as cur:
                rows = [_token(r) for r in await cur.fetchall()]
            if rows:
                await conn.execute(
                    f"UPDATE tokens SET revoked_at_ms = ? WHERE login = ? AND revoked_at_ms = 0 AND {where}",
                    (now_ms, login, arg),
                )
                if audit_of is not None:
                    await audit.sqlite_insert(conn, [audit_of(r) for r in rows])
        return rows

    # --- organizations and groups -----------------------------------------------------
    async def create_org(self, org: UserRecord, owners: GroupRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> None:
        try:
            async with self.db.transaction() as conn:
                await conn.execute(
                    f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (org.login, org.email, org.password_hash, org.created_at_ms, org.name,
                     org.user_type, org.description, int(org.disabled)),
                )
                await conn.execute(
                    "INSERT INTO groups (org, name, permission, created_at_ms) VALUES (?, ?, ?, ?)",
                    (owners.org, owners.name, owners.permission, owners.created_at_ms),
                )
                await conn.executemany(
                    "INSERT INTO group_members (org, grp, login) VALUES (?, ?, ?)",
                    [(owners.org, owners.name, m) for m in owners.members],
                )
                await audit.sqlite_insert(conn, audit_entries)
        except sqlite3.IntegrityError as e:
            if "FOREIGN KEY" in str(e):
                raise NotFound("no such member") from e
            raise Conflict(f"login {org.login!r} is already taken") from e

    async def _groups(self, where: str, args: tuple) -> list[GroupRecord]:
        rows = await self.db.fetchall(
            f"SELECT org, name, permission, created_at_ms FROM groups WHERE {where} ORDER BY org, name", args
        )
        out = []
        for r in rows:
            members = await self.db.fetchall(
                "SELECT login FROM group_members WHERE org = ? AND grp = ? ORDER BY login", (r["org"], r["name"])
            )
            packages = await self.db.fetchall(
                "SELECT package FROM group_packages WHERE org = ? AND grp = ? ORDER BY package", (r["org"], r["name"])
            )
            out.append(GroupRecord(
                org=r["org"], name=r["name"], permission=r["permission"], created_at_ms=r["created_at_ms"],
                members=tuple(m["login"] for m in members), packages=tuple(p["package"] for p in packages),
            ))
        return out

    async def get_group(self, org: str, name: str) -> GroupRecord | None:
        found = await self._groups("org = ? AND name = ?", (org, name))
        return found[0] if found else None

    async def list_groups(self, org: str) -> list[GroupRecord]:
        return await self._groups("org = ?", (org,))

    async def groups_of_member(self, login: str, org: str = "") -> list[GroupRecord]:
        where = "(org, name) IN (SELECT org, grp FROM group_members WHERE login = ?)"
        if org:
            return await self._groups(where + " AND org = ?", (login, org))
        return await self._groups(where, (login,))

    async def put_group(self, group: GroupRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> GroupRecord:
        try:
            async with self.db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO groups (org, name, permission, created_at_ms) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (org, name) DO UPDATE SET permission = excluded.permission",
                    (group.org, group.name, group.permission, group.created_at_ms),
                )
                await audit.sqlite_insert(conn, audit_entries)
        except sqlite3.IntegrityError as e:
            raise NotFound(f"no organization {group.org!r}") from e
        stored = await self.get_group(group.org, group.name)
        assert stored is not None
        return stored

    async def _set(self, table: str, column: str, org: str, name: str, value: str, present: bool,
                   audit_entries: Sequence[AuditEntry]) -> bool:
        try:
            async with self.db.transaction() as conn:
                async with conn.execute("SELECT 1 FROM groups WHERE org = ? AND name = ?", (org, name)) as cur:
                    if await cur.fetchone() is None:
                        raise NotFound(f"no group {org}/{name}")
                if present:
                    cur = await conn.execute(
                        f"INSERT OR IGNORE INTO {table} (org, grp, {column}) VALUES (?, ?, ?)", (org, name, value)
                    )
                else:
                    cur = await conn.execute(
                        f"DELETE FROM {table} WHERE org = ? AND grp = ? AND {column} = ?", (org, name, value)
                    )
                if cur.rowcount > 0:
                    await audit.sqlite_insert(conn, audit_entries)
                return cur.rowcount > 0
        except sqlite3.IntegrityError as e:
            raise NotFound(f"no user {value!r}") from e

    async def set_member(self, org: str, name: str, login: str, present: bool, *, audit_entries: Sequence[AuditEntry] = ()) -> bool:
        return await self._set("group_members", "login", org, name, login, present, audit_entries)

    async def set_package(self, org: str, name: str, package: str, present: bool, *, audit_entries: Sequence[AuditEntry] = ()) -> bool:
        return await self._set("group_packages", "package", org, name, package, present, audit_entries)

    # --- audit trail ------------------------------------------------------------------
    async def record_audit(self, entries: Sequence[AuditEntry]) -> None:
        async with self.db.transaction() as conn:
            await audit.sqlite_insert(conn, entries)

    async def list_audit(self, query: AuditQuery) -> list[AuditEntry]:
        return await audit.sqlite_list(self.db, query)

    async def purge_audit(self, before_ms: int) -> int:
        return await audit.sqlite_purge(self.db, before_ms)
