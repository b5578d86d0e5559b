"""The audit trail at the edge: who acts is handed to the services, and an owner's trail is
read back (`GET /api/audit/<owner>`, the web UI's Activity pages).

The gateway records nothing itself: auth-svc and registry-svc write each entry with the
change they own (servicekit.audit). Here the caller becomes the audit actor of the request
(credentials.set_actor: login, the token's name or none for a password or web session,
the peer address), which the gRPC client interceptor sends with every call; and the two services'
trails of an owner are merged, newest first, behind one opaque cursor.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web
from pkgcloud_servicekit import audit, errors
from pkgcloud_servicekit.audit import AuditEntry, AuditQuery

from . import access, keys
from .access import grant
from .clients import call
from .routing import add_route

#: the services keeping trails, in the order that breaks ties within one millisecond
SOURCES = ("auth", "registry")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class TrailPage:
    entries: list[AuditEntry]
    next: str | None


async def read_trail(clients, owner: str, *, cursor: str = "", limit: int = DEFAULT_LIMIT, action: str = "",
                     actor: str = "") -> TrailPage:
    """One page of owner's trail from every service, newest first. Invalid for a cursor that
    is not one this returned."""
    try:
        after = audit.decode_cursor(cursor) if cursor else None
    except ValueError:
        raise errors.Invalid("invalid cursor: pass the 'next' value of the previous page") from None
    if after is not None and after[1] not in SOURCES:
        raise errors.Invalid("invalid cursor: pass the 'next' value of the previous page")
    limit = max(1, min(limit, MAX_LIMIT))
    stubs = {"auth": clients.auth, "registry": clients.registry}

    async def one(source: str) -> list[tuple[AuditEntry, str]]:
        query = AuditQuery(owner, audit.position_for(source, after, SOURCES), limit + 1, action, actor)
        resp = await call(stubs[source].ListAudit(audit.query_to_pb(query)))
        return [(audit.from_pb(e), source) for e in resp.entries]

    found = [pair for pairs in await asyncio.gather(*(one(s) for s in SOURCES)) for pair in pairs]
    found.sort(key=lambda p: (p[0].at_ms, SOURCES.index(p[1]), p[0].id), reverse=True)
    page = found[:limit]
    more = len(found) > limit
    last = page[-1] if page else None
    return TrailPage([e for e, _ in page], audit.encode_cursor(last[0].at_ms, last[1], last[0].id) if more and last else None)


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "")
    if not raw:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise errors.Invalid(f"'limit' must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def add_routes(r: web.UrlDispatcher) -> None:
    add_route(r, "GET", "/audit/{owner}", audit_log, access.AUDIT_READ)


async def audit_log(request: web.Request) -> web.Response:
    """GET /api/audit/<owner>?action=&actor=&cursor=&limit=: {"entries": [...], "next": cursor or null}."""
    owner = grant(request).owner.lower()
    page = await read_trail(
        request.config_dict[keys.CLIENTS], owner, cursor=request.query.get("cursor", ""), limit=_limit(request),
        action=request.query.get("action", "").strip(), actor=request.query.get("actor", "").strip().lower(),
    )
    return web.json_response({"entries": [e.public() for e in page.entries], "next": page.next})
