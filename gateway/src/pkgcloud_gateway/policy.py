"""The access questions the gateway asks of auth-svc and registry-svc: what a principal
may do on an owner or package (`permission_on`), and what it may read of an owner
(`read_access`, cached briefly). Routes do not call this module for their own resource: the
rule a route is registered with (access.py) does, before the handler runs.

Reads that are refused look exactly like reads of something missing (the caller learns
nothing about private packages). Writes are decided from the principal and the owner
alone, before anything is looked up, so a refused write cannot reveal existence either.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiohttp import web
from pkgcloud_protos.v1 import auth_pb2, registry_pb2
from pkgcloud_servicekit import errors, scopes
from pkgcloud_servicekit.indexes import IndexView
from pkgcloud_servicekit.permissions import Permission, at_least

from . import keys
from .access_epoch import AccessEpoch
from .clients import call
from .credentials import Principal, principal_of

_FROM_PB = {
    auth_pb2.PERMISSION_NONE: Permission.NONE,
    auth_pb2.PERMISSION_READ: Permission.READ,
    auth_pb2.PERMISSION_WRITE: Permission.WRITE,
    auth_pb2.PERMISSION_ADMIN: Permission.ADMIN,
}


async def permission_on(auth, principal: Principal | None, owner: str, package: str = "") -> str:
    """What the principal may do on owner's package (on the owner itself when package is
    empty): "none" | "read" | "write" | "admin". The account itself is admin without a
    call; anyone else is asked of auth-svc (org groups: owners are admins, groups with write
    write the packages they list). Org tokens (user_type "org") act for their org only."""
    if principal is None:
        return Permission.NONE.value
    if principal.login == owner:
        return Permission.ADMIN.value
    if principal.user_type != "user":
        return Permission.NONE.value
    resp = await call(auth.GetPermission(auth_pb2.GetPermissionRequest(login=principal.login, owner=owner, package=package)))
    return _FROM_PB.get(resp.permission, Permission.NONE).value


def may_write_package(principal: Principal | None, owner: str, permission: str = "none") -> bool:
    """For showing forms (web UI); the routes behind them enforce access.PACKAGE_WRITE."""
    if principal is None:
        return False
    return principal.login == owner or at_least(Permission(permission), Permission.WRITE)


# --- private packages: who reads what (issue 5) ----------------------------------------
#
# A private package is readable by its owner account, by the org's admin groups (every
# package), by members of groups listing it, by its authorized users, and by tokens of
# those principals that carry the scope the route needs. Everything else about it answers
# exactly as a missing package does. What a principal may read of one owner is one small
# answer (ReadAccess), computed with at most two RPCs and cached as briefly as credentials,
# so index and download routes stay a cache hit for anyone but a first-time caller.

#: the scope a read needs, by the protocol sub-app that serves it (None: the web UI)
READ_SCOPE = {"api": "api:read", "conda": "conda:download", "pypi": "pypi:download", "notebooks": "api:read", "envs": "api:read"}


@dataclass(frozen=True)
class ReadAccess:
    """What one principal may read of one owner: every package (`everything`), or the
    public ones plus the private ones named (lowercase) in `packages`."""

    everything: bool = False
    packages: frozenset[str] = frozenset()

    def may_read(self, package: str, public: bool) -> bool:
        return public or self.everything or package.lower() in self.packages

    @property
    def view(self) -> IndexView:
        """Which index view serves this principal: PRIVATE (all packages), PUBLIC, or
        PARTIAL (public plus `packages`: built per request from both published views)."""
        if self.everything:
            return IndexView.PRIVATE
        return IndexView.PARTIAL if self.packages else IndexView.PUBLIC


NO_ACCESS = ReadAccess()
ALL_ACCESS = ReadAccess(everything=True)


def token_grants(principal: Principal | None, scope: str | None) -> bool:
    """A password (or web session) login holds every scope; a token only those it carries
    (auth-svc gives a token created without scopes "all")."""
    if principal is None or scope is None or principal.method != "token" or not principal.scopes:
        return True
    return scopes.grants(principal.scopes, scope)


class AccessCache:
    """(login, owner) -> ReadAccess, for ttl_s (the credential cache's bound on staleness) and
    only while the access epoch is the one the entry was looked up under (access_epoch.py)."""

    def __init__(self, ttl_s: float = 1.0, max_entries: int = 10_000, clock=time.monotonic, epoch: AccessEpoch | None = None):
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self.epoch = epoch if epoch is not None else AccessEpoch()
        self._entries: dict[tuple[str, str], tuple[float, bytes, ReadAccess]] = {}

    def get(self, login: str, owner: str) -> ReadAccess | None:
        hit = self._entries.get((login, owner))
        if hit is None or hit[0] <= self.clock() or hit[1] != self.epoch.current():
            return None
        return hit[2]

    def put(self, login: str, owner: str, access: ReadAccess, epoch: bytes) -> None:
        """`epoch`: `self.epoch.current()` taken before `access` was looked up."""
        if self.ttl_s <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[(login, owner)] = (self.clock() + self.ttl_s, epoch, access)

    def forget(self, login: str = "", owner: str = "") -> None:
        """Drop entries of that login and/or owner (both empty: everything)."""
        for key in [k for k in self._entries if (not login or k[0] == login) and (not owner or k[1] == owner)]:
            del self._entries[key]


ACCESS_CACHE = web.AppKey("access_cache", AccessCache)


def _access_cache(request: web.Request) -> AccessCache:
    cache = request.config_dict.get(ACCESS_CACHE)
    if cache is None:  # an app built without init_app (unit tests): no caching
        cache = AccessCache(ttl_s=0)
    return cache


async def _grants_of(clients, login: str, owner: str) -> ReadAccess:
    async def groups() -> list:
        try:
            resp = await call(clients.auth.ListGroups(auth_pb2.ListGroupsRequest(org=owner, member=login)))
        except (errors.NotFound, errors.Invalid):
            return []  # the owner is no organization
        return list(resp.groups)

    async def collaborations() -> list[str]:
        try:
            resp = await call(clients.registry.ListCollaborations(registry_pb2.CollaborationsRequest(login=login, owner=owner)))
        except (errors.NotFound, errors.Invalid):
            return []
        return list(resp.packages)

    found_groups, collab = await asyncio.gather(groups(), collaborations())
    if any(g.permission == auth_pb2.PERMISSION_ADMIN for g in found_groups):
        return ALL_ACCESS
    names = {p.lower() for g in found_groups if g.permission != auth_pb2.PERMISSION_NONE for p in g.packages}
    names |= {p.lower() for p in collab}
    return ReadAccess(packages=frozenset(names)) if names else NO_ACCESS


async def read_access(request: web.Request, owner: str, scope: str | None = "") -> ReadAccess:
    """What the caller may read of owner's packages on this route. `scope` "" = the one the
    serving protocol needs (READ_SCOPE); None = no scope check. Bad credentials raise
    Unauthenticated (401) as on every route."""
    principal = await principal_of(request)
    if principal is None:
        return NO_ACCESS
    if scope == "":
        scope = READ_SCOPE.get(request.config_dict.get(keys.PROTOCOL, ""), "api:read")
    if not token_grants(principal, scope):
        return NO_ACCESS  # a token without the scope reads what anonymous reads
    if principal.login.lower() == owner.lower():
        return ALL_ACCESS
    if principal.user_type != "user":
        return NO_ACCESS  # an org's token acts for that org only
    cache = _access_cache(request)
    login = principal.login.lower()
    access = cache.get(login, owner.lower())
    if access is None:
        epoch = cache.epoch.current()
        access = await _grants_of(request.config_dict[keys.CLIENTS], login, owner)
        cache.put(login, owner.lower(), access, epoch)
    return access
