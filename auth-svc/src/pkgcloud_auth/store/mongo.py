"""AuthStore on MongoDB (motor; mongomock-motor in tests).

Every write is a single-document operation, so nothing here needs a transaction or a
replica set. Logins are unique through a unique index on the (lowercase) `login` field.
Audit entries ride in the single-document write of their change (servicekit.audit), and are
copied into the `audit` collection right after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pkgcloud_servicekit import audit
from pkgcloud_servicekit.audit import AuditEntry, MongoAuditLog, MongoAuditTrail
from pkgcloud_servicekit.errors import Conflict, NotFound
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..records import GroupRecord, RevokeSelector, TokenRecord, UserRecord
from .interfaces import AuthStore


def _user_doc(u: UserRecord) -> dict[str, Any]:
    return {
        "login": u.login, "email": u.email, "password_hash": u.password_hash,
        "created_at_ms": u.created_at_ms, "name": u.name, "user_type": u.user_type,
        "description": u.description, "disabled": u.disabled,
    }


def _user(d: dict[str, Any]) -> UserRecord:
    return UserRecord(
        login=d["login"], email=d["email"], password_hash=d["password_hash"],
        created_at_ms=d["created_at_ms"], name=d.get("name", ""), user_type=d.get("user_type", "user"),
        description=d.get("description", ""), disabled=bool(d.get("disabled", False)),
    )


def _token_doc(t: TokenRecord) -> dict[str, Any]:
    return {
        "_id": t.id, "login": t.login, "token_sha256": t.token_sha256, "name": t.name,
        "scopes": list(t.scopes), "created_at_ms": t.created_at_ms, "expires_at_ms": t.expires_at_ms,
        "hostname": t.hostname, "remote_addr": t.remote_addr, "last_used_ms": t.last_used_ms,
        "revoked_at_ms": t.revoked_at_ms,
    }


def _token(d: dict[str, Any]) -> TokenRecord:
    return TokenRecord(
        id=d["_id"], login=d["login"], token_sha256=d["token_sha256"], name=d["name"],
        scopes=tuple(d.get("scopes") or ()), created_at_ms=d["created_at_ms"],
        expires_at_ms=d.get("expires_at_ms", 0), hostname=d.get("hostname", ""),
        remote_addr=d.get("remote_addr", ""), last_used_ms=d.get("last_used_ms", 0),
        revoked_at_ms=d.get("revoked_at_ms", 0),
    )


class MongoAuthStore(MongoAuditTrail, AuthStore):
    def __init__(self, db: Any):
        """db: a motor (or mongomock-motor) database, e.g. open_mongo_database(settings, "auth")."""
        self.db = db
        self.users = db["users"]
        self.tokens = db["tokens"]
        # One document per group holding its members and packages: every change is one
        # single-document update ($addToSet / $pull), so nothing needs a transaction.
        self.groups = db["groups"]
        self.audit_log = MongoAuditLog(db, ("users", "tokens", "groups"))

    async def open(self) -> None:
        await self.audit_log.open()
        await self.users.create_index([("login", ASCENDING)], unique=True, name="login_unique")
        await self.tokens.create_index([("token_sha256", ASCENDING)], unique=True, name="token_sha256_unique")
        await self.tokens.create_index(
            [("login", ASCENDING), ("revoked_at_ms", ASCENDING), ("created_at_ms", ASCENDING)], name="by_login"
        )
        await self.groups.create_index([("members", ASCENDING)], name="by_member")
        await self.groups.create_index([("org", ASCENDING), ("name", ASCENDING)], name="by_org")

    async def close(self) -> None:
        client = getattr(self.db, "client", None)
        if client is not None and hasattr(client, "close"):
            client.close()

    async def create_user(self, user: UserRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> None:
        try:
            await self.users.insert_one(audit.mongo_doc(_user_doc(user), audit_entries))
        except DuplicateKeyError as e:
            raise Conflict(f"login {user.login!r} is already taken") from e
        if audit_entries:
            await self.audit_log.settle("users", {"login": user.login})

    async def get_user(self, login: str) -> UserRecord | None:
        d = await self.users.find_one({"login": login})
        return _user(d) if d else None

    async def _update_user(self, login: str, sets: dict[str, Any], entries: Sequence[AuditEntry]) -> bool:
        r = await self.users.update_one({"login": login}, audit.mongo_update({"$set": sets}, entries))
        if entries and r.matched_count:
            await self.audit_log.settle("users", {"login": login})
        return r.matched_count > 0

    async def set_password_hash(self, login: str, password_hash: str, *, audit_entries: Sequence[AuditEntry] = ()) -> bool:
        return await self._update_user(login, {"password_hash": password_hash}, audit_entries)

    async def set_disabled(self, login: str, disabled: bool, *, audit_entries: Sequence[AuditEntry] = ()) -> bool:
        return await self._update_user(login, {"disabled": disabled}, audit_entries)

    async def create_token(self, token: TokenRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> None:
        # Users are never deleted, so checking first cannot race with a removal.
        if await self.users.find_one({"login": token.login}, {"_id": 1}) is None:
            raise NotFound(f"no user {token.login!r}")
        try:
            await self.tokens.insert_one(audit.mongo_doc(_token_doc(token), audit_entries))
        except DuplicateKeyError as e:
            raise Conflict("token id or hash already exists") from e
        if audit_entries:
            await self.audit_log.settle("tokens", {"_id": token.id})

    async def get_token_by_hash(self, token_sha256: str) -> TokenRecord | None:
        d = await self.tokens.find_one({"token_sha256": token_sha256})
        return _token(d) if d else None

    async def list_tokens(self, login: str) -> list[TokenRecord]:
        cursor = self.tokens.find({"login": login, "revoked_at_ms": 0}).sort([("created_at_ms", ASCENDING), ("_id", ASCENDING)])
        return [_token(d) async for d in cursor]

    async def touch_token(self, token_id: str, now_ms: int, min_interval_ms: int) -> bool:
        r = await self.tokens.update_one(
            {"_id": token_id, "last_used_ms": {"$lte": now_ms - min_interval_ms}},
            {"$set": {"last_used_ms": now_ms}},
        )
        return r.modified_count > 0

    async def revoke_tokens(self, login: str, selector: RevokeSelector, now_ms: int, *,
                            audit_of: Callable[[TokenRecord], AuditEntry] | None = None) -> list[TokenRecord]:
        if selector.token_sha256:
            match: dict[str, Any] = {"token_sha256": selector.token_sha256}
        elif selector.token_id:
            match = {"_id": selector.token_id}
        elif selector.name:
            match = {"name": selector.name}
        else:
            return []
        revoked: list[TokenRecord] = []
        async for d in self.tokens.find({"login": login, "revoked_at_ms": 0, **match}):
            entries = [audit_of(_token(d))] if audit_of is not None else []
            # One conditional update per token: only the call that flips revoked_at_ms from 0
            # reports it (and records it), so concurrent revocations publish each token's event once.
            before = await self.tokens.find_one_and_update(
                {"_id": d["_id"], "revoked_at_ms": 0},
                audit.mongo_update({"$set": {"revoked_at_ms": now_ms}}, entries),
                return_document=ReturnDocument.BEFORE,
            )
            if before is not None:
                revoked.append(_token(before))
                if entries:
                    await self.audit_log.settle("tokens", {"_id": d["_id"]})
        return revoked

    # --- organizations and groups -----------------------------------------------------
    async def create_org(self, org: UserRecord, owners: GroupRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> None:
        for m in owners.members:
            if await self.users.find_one({"login": m}, {"_id": 1}) is None:
                raise NotFound(f"no user {m!r}")
        # The org's user document first: its unique login decides a race. Without
        # transactions the group follows, and a failure there takes the org back out.
        # The entry rides with the group's document, the write that completes the change.
        await self.create_user(org)
        try:
            await self.groups.insert_one(audit.mongo_doc(_group_doc(owners, members=owners.members), audit_entries))
        except BaseException:
            await self.users.delete_one({"login": org.login, "user_type": "org"})
            raise
        if audit_entries:
            await self.audit_log.settle("groups", {"_id": _group_id(owners.org, owners.name)})

    async def get_group(self, org: str, name: str) -> GroupRecord | None:
        d = await self.groups.find_one({"_id": _group_id(org, name)})
        return _group(d) if d else None

    async def list_groups(self, org: str) -> list[GroupRecord]:
        cursor = self.groups.find({"org": org}).sort([("name", ASCENDING)])
        return [_group(d) async for d in cursor]

    async def groups_of_member(self, login: str, org: str = "") -> list[GroupRecord]:
        query: dict[str, Any] = {"members": login}
        if org:
            query["org"] = org
        cursor = self.groups.find(query).sort([("org", ASCENDING), ("name", ASCENDING)])
        return [_group(d) async for d in cursor]

    async def put_group(self, group: GroupRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> GroupRecord:
        if await self.users.find_one({"login": group.org, "user_type": "org"}, {"_id": 1}) is None:
            raise NotFound(f"no organization {group.org!r}")
        gid = _group_id(group.org, group.name)
        await self.groups.update_one(
            {"_id": gid},
            audit.mongo_update({"$set": {"permission": group.permission},
                                "$setOnInsert": {"org": group.org, "name": group.name, "created_at_ms": group.created_at_ms,
                                                 "members": [], "packages": []}}, audit_entries),
            upsert=True,
        )
        if audit_entries:
            await self.audit_log.settle("groups", {"_id": gid})
        stored = await self.get_group(group.org, group.name)
        assert stored is not None
        return stored

    async def _set(self, field: str, org: str, name: str, value: str, present: bool, entries: Sequence[AuditEntry]) -> bool:
        gid = _group_id(org, name)
        # matched only when it changes something, so a no-op records no entry
        op = {"$addToSet": {field: value}} if present else {"$pull": {field: value}}
        cond = {field: {"$ne": value}} if present else {field: value}
        r = await self.groups.update_one({"_id": gid, **cond}, audit.mongo_update(op, entries))
        if r.matched_count == 0:
            if await self.groups.find_one({"_id": gid}, {"_id": 1}) is None:
                raise NotFound(f"no group {org}/{name}")
            return False
        if entries:
            await self.audit_log.settle("groups", {"_id": gid})
        return True

    async def set_member(self, org: str, name: str, login: str, present: bool, *, audit_entries: Sequence[AuditEntry] = ()) -> bool:
        if present and await self.users.find_one({"login": login}, {"_id": 1}) is None:
            raise NotFound(f"no user {login!r}")
        return await self._set("members", org, name, login, present, audit_entries)

    async def set_package(self, org: str, name: str, package: str, present: bool, *, audit_entries: Sequence[AuditEntry] = ()) -> bool:
        return await self._set("packages", org, name, package, present, audit_entries)

    # --- audit trail ------------------------------------------------------------------
    async def record_audit(self, entries: Sequence[AuditEntry]) -> None:
        await self.audit_log.record(entries)



def _group_id(org: str, name: str) -> str:
    # '/' appears in neither a login nor a group name, so the key is unambiguous.
    return f"{org}/{name}"


def _group_doc(g: GroupRecord, members: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "_id": _group_id(g.org, g.name), "org": g.org, "name": g.name, "permission": g.permission,
        "created_at_ms": g.created_at_ms, "members": list(members), "packages": [],
    }


def _group(d: dict[str, Any]) -> GroupRecord:
    return GroupRecord(
        org=d["org"], name=d["name"], permission=d["permission"], created_at_ms=d["created_at_ms"],
        members=tuple(sorted(d.get("members") or ())), packages=tuple(sorted(d.get("packages") or ())),
    )
