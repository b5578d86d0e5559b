"""The audit trail: who changed what, recorded by the service that owns the change, in the
same write as the change (docs/adr, "Audit trail").

The contract, defined once here:

- Who acts travels like the request id: the gateway sets `actor_var` once it knows the
  caller, the gRPC client interceptor sends it as metadata (ACTOR_HEADER, ACTOR_TOKEN_HEADER,
  CLIENT_HEADER; the request id is `x-request-id` already), and the server interceptor
  restores it, so a service's core reads `actor_var` (through `entry()`) and never takes
  the actor as an argument. Only the token's *name* crosses, never its value.
- An entry belongs to an owner (the account whose log shows it) and is ordered by its
  position (at_ms, id); ids grow within one service's store, so (at_ms, id) is a total
  order per service and (at_ms, service, id) across services.
- Storage: SQLite writes the `audit_log` row in the transaction of the change
  (SQLITE_TABLE, sqlite_insert/list/purge). MongoDB embeds pending entries in the changed
  document's `audit_pending` array in the same single-document write (mongo_update,
  mongo_doc), then MongoAuditLog copies them into the `audit` collection (idempotent,
  by entry id) and pulls them; a sweep finishes copies a crash interrupted.
"""

from __future__ import annotations

import abc
import base64
import binascii
import contextvars
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from .logs import request_id_var
from .periodic import PeriodicTask

log = logging.getLogger(__name__)

ACTOR_HEADER = "x-pkgcloud-actor"
#: binary metadata (token names are free text); absent = no token (password or session)
ACTOR_TOKEN_HEADER = "x-pkgcloud-actor-token-bin"
CLIENT_HEADER = "x-pkgcloud-client"

#: the actor of operator commands (`pkgcloud admin ...`): a reserved login no account can take
OPERATOR = "admin"

#: positions sort after every id of a millisecond (SQLite sequence numbers and MongoDB ids)
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Actor:
    login: str = ""
    #: the name of the token used; None for a password or a web session
    token: str | None = None
    #: the caller's address as the gateway saw it
    client: str = ""


actor_var: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("audit_actor", default=None)


def actor_metadata(actor: Actor | None) -> list[tuple[str, str | bytes]]:
    if actor is None:
        return []
    md: list[tuple[str, str | bytes]] = [(ACTOR_HEADER, actor.login), (CLIENT_HEADER, actor.client)]
    if actor.token is not None:
        md.append((ACTOR_TOKEN_HEADER, actor.token.encode("utf-8")))
    return md


def actor_from_metadata(md: dict[str, Any]) -> Actor | None:
    if ACTOR_HEADER not in md:
        return None
    token = md.get(ACTOR_TOKEN_HEADER)
    if isinstance(token, bytes):
        token = token.decode("utf-8", "replace")
    return Actor(login=str(md.get(ACTOR_HEADER) or ""), token=token, client=str(md.get(CLIENT_HEADER) or ""))


@dataclass(frozen=True)
class AuditEntry:
    owner: str
    action: str
    target: str
    at_ms: int
    actor: str = ""
    token: str | None = None
    request_id: str = ""
    client: str = ""
    #: set by the store that keeps it (0 before)
    id: int = 0

    def public(self) -> dict[str, Any]:
        """The entry as the API shows it (`at` in ISO 8601, UTC)."""
        return {
            "at": iso(self.at_ms), "actor": self.actor, "token": self.token, "action": self.action,
            "target": self.target, "request_id": self.request_id, "client": self.client,
        }


def iso(at_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at_ms // 1000)) + f".{at_ms % 1000:03d}Z"


def now_ms() -> int:
    return int(time.time() * 1000)


def entry(owner: str, action: str, target: str, *, at_ms: int | None = None, actor: Actor | None = None) -> AuditEntry:
    """An entry for a change made now by the current actor (actor_var) under the current
    request id."""
    who = actor or actor_var.get() or Actor()
    rid = request_id_var.get()
    return AuditEntry(
        owner=owner, action=action, target=target, at_ms=now_ms() if at_ms is None else at_ms,
        actor=who.login, token=who.token, request_id="" if rid == "-" else rid, client=who.client,
    )


@dataclass(frozen=True)
class Position:
    """Entries strictly before (at_ms, id), newest first. id MAX_ID: every entry of at_ms
    and earlier; id 0: only earlier milliseconds."""

    at_ms: int
    id: int


@dataclass(frozen=True)
class AuditQuery:
    owner: str
    before: Position | None = None
    limit: int = 50
    action: str = ""
    actor: str = ""


MAX_LIMIT = 500


# --- protobuf (pkgcloud.v1.AuditEntry, ListAuditRequest) --------------------------------

def to_pb(e: AuditEntry) -> Any:
    from pkgcloud_protos.v1 import common_pb2

    msg = common_pb2.AuditEntry(id=e.id, owner=e.owner, at_ms=e.at_ms, actor=e.actor, action=e.action, target=e.target,
                                request_id=e.request_id, client=e.client)
    if e.token is not None:
        msg.token = e.token
    return msg


def from_pb(m: Any) -> AuditEntry:
    return AuditEntry(owner=m.owner, action=m.action, target=m.target, at_ms=m.at_ms, actor=m.actor,
                      token=m.token if m.HasField("token") else None, request_id=m.request_id, client=m.client, id=m.id)


def query_from_pb(m: Any) -> AuditQuery:
    before = Position(m.before.at_ms, m.before.id) if m.HasField("before") else None
    return AuditQuery(owner=m.owner, before=before, limit=m.limit or 50, action=m.action, actor=m.actor)


def query_to_pb(q: AuditQuery) -> Any:
    from pkgcloud_protos.v1 import common_pb2

    msg = common_pb2.ListAuditRequest(owner=q.owner, limit=q.limit, action=q.action, actor=q.actor)
    if q.before is not None:
        msg.before.CopyFrom(common_pb2.AuditPosition(at_ms=q.before.at_ms, id=q.before.id))
    return msg


def list_response(entries: Iterable[AuditEntry]) -> Any:
    from pkgcloud_protos.v1 import common_pb2

    return common_pb2.ListAuditResponse(entries=[to_pb(e) for e in entries])


# --- SQLite -----------------------------------------------------------------------------

SQLITE_TABLE = """
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        owner TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        token TEXT,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        request_id TEXT NOT NULL,
        client TEXT NOT NULL
    );
    CREATE INDEX audit_log_owner ON audit_log(owner, at_ms, seq);
    CREATE INDEX audit_log_at ON audit_log(at_ms)
"""
_COLS = "owner, at_ms, actor, token, action, target, request_id, client"


async def sqlite_insert(conn: Any, entries: Iterable[AuditEntry]) -> None:
    """Insert inside the caller's open transaction (the change's own)."""
    rows = [(e.owner, e.at_ms, e.actor, e.token, e.action, e.target, e.request_id, e.client) for e in entries]
    if rows:
        await conn.executemany(f"INSERT INTO audit_log ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


async def sqlite_list(db: Any, q: AuditQuery) -> list[AuditEntry]:
    """db: a SqliteDatabase (its reader connection)."""
    where, params = ["owner = ?"], [q.owner]
    if q.before is not None:
        where.append("(at_ms < ? OR (at_ms = ? AND seq < ?))")
        params += [q.before.at_ms, q.before.at_ms, q.before.id]
    if q.action:
        where.append("action = ?")
        params.append(q.action)
    if q.actor:
        where.append("actor = ?")
        params.append(q.actor)
    rows = await db.fetchall(
        f"SELECT seq, {_COLS} FROM audit_log WHERE {' AND '.join(where)} ORDER BY at_ms DESC, seq DESC LIMIT ?",
        (*params, max(1, min(q.limit, MAX_LIMIT))),
    )
    return [AuditEntry(owner=r["owner"], action=r["action"], target=r["target"], at_ms=r["at_ms"], actor=r["actor"],
                       token=r["token"], request_id=r["request_id"], client=r["client"], id=r["seq"]) for r in rows]


async def sqlite_purge(db: Any, before_ms: int) -> int:
    async with db.transaction() as conn:
        cur = await conn.execute("DELETE FROM audit_log WHERE at_ms < ?", (before_ms,))
        return cur.rowcount


# --- MongoDB ----------------------------------------------------------------------------

PENDING_FIELD = "audit_pending"
HAS_PENDING = "has_audit"
_last_id = 0


def _next_id() -> int:
    # increasing within the process; nanoseconds, so replicas' ids interleave by time
    global _last_id
    _last_id = max(time.time_ns(), _last_id + 1)
    return _last_id


def _mongo_entry(e: AuditEntry) -> dict[str, Any]:
    d = asdict(replace(e, id=e.id or _next_id()))
    d["_id"] = d.pop("id")
    return d


def _from_mongo(d: dict[str, Any]) -> AuditEntry:
    return AuditEntry(owner=d["owner"], action=d["action"], target=d["target"], at_ms=d["at_ms"], actor=d.get("actor", ""),
                      token=d.get("token"), request_id=d.get("request_id", ""), client=d.get("client", ""), id=d["_id"])


def mongo_update(update: dict[str, Any], entries: Sequence[AuditEntry]) -> dict[str, Any]:
    """`update` (a MongoDB update document) that also queues these entries on the document."""
    if not entries:
        return update
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in update.items()}
    push = out.setdefault("$push", {})
    push[PENDING_FIELD] = {"$each": [_mongo_entry(e) for e in entries]}
    out.setdefault("$set", {})[HAS_PENDING] = True
    return out


def mongo_doc(doc: dict[str, Any], entries: Sequence[AuditEntry]) -> dict[str, Any]:
    """A document to insert that carries these entries."""
    if not entries:
        return doc
    return {**doc, PENDING_FIELD: [_mongo_entry(e) for e in entries], HAS_PENDING: True}


class MongoAuditLog:
    """The `audit` collection, fed from the entries documents carry (see the module doc)."""

    def __init__(self, db: Any, sources: Sequence[str]):
        self.db = db
        self.audit = db["audit"]
        self.sources = tuple(sources)

    async def open(self) -> None:
        await self.audit.create_index([("owner", 1), ("at_ms", -1), ("_id", -1)], name="by_owner")
        await self.audit.create_index([("at_ms", 1)], name="by_time")
        for name in self.sources:
            await self.db[name].create_index([(HAS_PENDING, 1)], name="audit_pending", sparse=True)

    async def settle(self, collection: str, match: dict[str, Any]) -> None:
        """Copy the entries pending on the documents matching `match` into `audit`, then
        drop them from those documents. Safe to repeat (upsert by id; $pull by id)."""
        coll = self.db[collection]
        async for doc in coll.find({**match, HAS_PENDING: True}, {PENDING_FIELD: 1}):
            entries = doc.get(PENDING_FIELD) or []
            for e in entries:
                await self.audit.replace_one({"_id": e["_id"]}, e, upsert=True)
            ids = [e["_id"] for e in entries]
            await coll.update_one({"_id": doc["_id"]}, {"$pull": {PENDING_FIELD: {"_id": {"$in": ids}}}})
            await coll.update_one({"_id": doc["_id"], PENDING_FIELD: {"$size": 0}}, {"$unset": {HAS_PENDING: "", PENDING_FIELD: ""}})

    async def sweep(self) -> None:
        """Finish every copy (after a crash between a write and its settle)."""
        for name in self.sources:
            await self.settle(name, {})

    async def record(self, entries: Sequence[AuditEntry]) -> None:
        """Entries that go with no change of a document (a refused login)."""
        for e in entries:
            await self.audit.insert_one(_mongo_entry(e))

    async def list(self, q: AuditQuery) -> list[AuditEntry]:
        query: dict[str, Any] = {"owner": q.owner}
        if q.before is not None:
            query["$or"] = [{"at_ms": {"$lt": q.before.at_ms}}, {"at_ms": q.before.at_ms, "_id": {"$lt": q.before.id}}]
        if q.action:
            query["action"] = q.action
        if q.actor:
            query["actor"] = q.actor
        limit = max(1, min(q.limit, MAX_LIMIT))
        out: list[AuditEntry] = []
        async for d in self.audit.find(query).sort([("at_ms", -1), ("_id", -1)]).limit(limit):
            out.append(_from_mongo(d))
            if len(out) >= limit:  # mongomock may ignore limit on cursors turned into lists
                break
        return out

    async def purge(self, before_ms: int) -> int:
        res = await self.audit.delete_many({"at_ms": {"$lt": before_ms}})
        return res.deleted_count


# --- the opaque cursor of GET /api/audit/<owner> ----------------------------------------

def encode_cursor(at_ms: int, source: str, id: int) -> str:
    raw = json.dumps([at_ms, source, id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str, int]:
    """ValueError when it is not one encode_cursor made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at_ms, source, id_ = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as e:
        raise ValueError("invalid cursor") from e
    if not isinstance(at_ms, int) or not isinstance(source, str) or not isinstance(id_, int):
        raise ValueError("invalid cursor")
    return at_ms, source, id_


def position_for(source: str, cursor: tuple[int, str, int] | None, order: Sequence[str]) -> Position | None:
    """Where `source`'s next page starts after `cursor`, with entries of one millisecond
    ordered by source as in `order` (newest first: later sources first)."""
    if cursor is None:
        return None
    at_ms, csource, cid = cursor
    if source == csource:
        return Position(at_ms, cid)
    # newest first: within one millisecond, sources later in `order` come first
    if order.index(source) < order.index(csource):
        return Position(at_ms, MAX_ID)  # its entries of that millisecond are still to come
    return Position(at_ms, 0)


# --- the store's side ----------------------------------------------------------------------

class AuditTrailStore(abc.ABC):
    """What a service's store answers about its audit trail (auth-svc's and registry-svc's
    stores both are one); entries are written by the store's own change methods."""

    @abc.abstractmethod
    async def list_audit(self, query: AuditQuery) -> list[AuditEntry]:
        """The owner's entries before query.before, newest first, at most query.limit,
        only those of query.action / query.actor when set."""

    @abc.abstractmethod
    async def purge_audit(self, before_ms: int) -> int:
        """Forget entries older than before_ms; how many went."""

    async def sweep_audit(self) -> None:
        """Finish recording entries a crash left on their documents (MongoDB only)."""
        return None


class MongoAuditTrail:
    """The AuditTrailStore methods of a MongoDB store that keeps a MongoAuditLog."""

    audit_log: MongoAuditLog

    async def list_audit(self, query: AuditQuery) -> list[AuditEntry]:
        return await self.audit_log.list(query)

    async def purge_audit(self, before_ms: int) -> int:
        return await self.audit_log.purge(before_ms)

    async def sweep_audit(self) -> None:
        await self.audit_log.sweep()


# --- retention --------------------------------------------------------------------------

class AuditJanitor(PeriodicTask):
    """Purges entries older than the retention period, periodically (and finishes MongoDB
    copies a crash interrupted, when given `sweep`)."""

    name = "audit-janitor"

    def __init__(self, purge: Callable[[int], Awaitable[int]], retention_days: int, *,
                 sweep: Callable[[], Awaitable[None]] | None = None, interval_s: float = 3600.0,
                 clock: Callable[[], float] = time.time):
        super().__init__(interval_s)
        self.purge = purge
        self.retention_days = retention_days
        self.sweep = sweep
        self.clock = clock

    async def run_once(self) -> int:
        if self.sweep is not None:
            await self.sweep()
        cutoff = int((self.clock() - self.retention_days * 86400) * 1000)
        removed = await self.purge(cutoff)
        if removed:
            log.info("purged %d audit entries older than %d days", removed, self.retention_days)
        return removed
