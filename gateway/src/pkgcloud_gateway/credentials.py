"""Who is calling: the credential a request carries and the principal it resolves to.

Credentials come from `Authorization: token <T>` (anaconda-client), `Bearer <T>`, HTTP Basic
(`__token__:<T>` for pip/twine, or `<login>:<password>`), or a `/t/<T>/` path segment
(conda and pip URLs). Tokens are resolved by auth-svc behind a short cache keyed by the
token's sha256, the same hash auth-svc's `token.revoked` event names, so a revocation can
evict the entry at once and the plaintext never sits in memory as a key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web
from pkgcloud_protos.v1 import auth_pb2, auth_pb2_grpc
from pkgcloud_servicekit import audit, errors

from . import keys
from .access_epoch import AccessEpoch
from .clients import call

#: match_info name of the `/t/<token>/` path segment (see routing.add_route)
PATH_TOKEN = "_path_token"


@dataclass(frozen=True)
class Credential:
    kind: str  # "token" | "password"
    secret: str  # the token, or the password
    login: str = ""  # with a password
    scheme: str = ""  # "token" | "bearer" | "basic" | "path"


@dataclass(frozen=True)
class Principal:
    login: str
    user_type: str = "user"
    method: str = "token"  # "token" | "password"
    token_id: str = ""
    token_name: str = ""
    scopes: tuple[str, ...] = ()
    expires_at_ms: int = 0  # 0 = never


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def extract_credential(request: web.Request) -> Credential | None:
    """The credential in the request, None when there is none; Unauthenticated when malformed.

    A token in the path wins over the header: it is the more specific of the two (a conda
    channel URL with /t/<T>/ is pasted on purpose)."""
    path_token = request.match_info.get(PATH_TOKEN)
    if path_token is not None:
        if not path_token:
            raise errors.Unauthenticated("empty token in the URL")
        return Credential("token", path_token, scheme="path")
    header = request.headers.get("Authorization", "").strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    scheme, rest = scheme.lower(), rest.strip()
    if scheme in ("token", "bearer"):
        if not rest:
            raise errors.Unauthenticated(f"the {scheme} Authorization header carries no token")
        return Credential("token", rest, scheme=scheme)
    if scheme == "basic":
        try:
            decoded = base64.b64decode(rest, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise errors.Unauthenticated("malformed Basic Authorization header") from None
        user, sep, password = decoded.partition(":")
        if not sep or not user:
            raise errors.Unauthenticated("malformed Basic Authorization header")
        if user == "__token__":
            if not password:
                raise errors.Unauthenticated("the Basic Authorization header carries no token")
            return Credential("token", password, scheme="basic")
        return Credential("password", password, login=user, scheme="basic")
    raise errors.Unauthenticated(f"unsupported Authorization scheme {scheme!r}; use 'token <TOKEN>'")


@dataclass
class _Entry:
    until: float
    epoch: bytes  # the access epoch before the lookup (access_epoch.py)
    principal: Principal | None
    refusal: str = ""


@dataclass
class CredentialResolver:
    """Resolves credentials through auth-svc; tokens (and refusals of them) are cached briefly,
    and only while the access epoch this host's gateway processes share is unchanged."""

    auth: auth_pb2_grpc.AuthServiceStub
    ttl_s: float = 1.0
    max_entries: int = 10_000
    clock: Callable[[], float] = time.monotonic
    epoch: AccessEpoch = field(default_factory=AccessEpoch)
    _cache: dict[str, _Entry] = field(default_factory=dict)

    async def resolve(self, cred: Credential, remote_addr: str = "") -> Principal:
        if cred.kind == "password":
            user = await call(self.auth.CheckPassword(auth_pb2.CheckPasswordRequest(login=cred.login, password=cred.secret, remote_addr=remote_addr)))
            return Principal(login=user.login, user_type=user.user_type or "user", method="password")
        return await self.resolve_token(cred.secret)

    async def resolve_token(self, token: str) -> Principal:
        key = token_hash(token)
        now = self.clock()
        epoch = self.epoch.current()
        entry = self._cache.get(key)
        if entry is not None and entry.until > now and entry.epoch == epoch and not _expired(entry.principal):
            if entry.principal is None:
                raise errors.Unauthenticated(entry.refusal)
            return entry.principal
        try:
            p = await call(self.auth.ResolveToken(auth_pb2.ResolveTokenRequest(token=token)))
        except errors.Unauthenticated as e:
            self._store(key, _Entry(now + self.ttl_s, epoch, None, e.message))
            raise
        principal = Principal(
            login=p.login,
            user_type=p.user_type or "user",
            method="token",
            token_id=p.token_id,
            token_name=p.token_name,
            scopes=tuple(p.scopes),
            expires_at_ms=p.expires_at_ms,
        )
        self._store(key, _Entry(now + self.ttl_s, epoch, principal))
        return principal

    def _store(self, key: str, entry: _Entry) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._cache) >= self.max_entries:
            now = self.clock()
            for k in [k for k, e in self._cache.items() if e.until <= now]:
                del self._cache[k]
            if len(self._cache) >= self.max_entries:
                self._cache.clear()  # still full of live entries: start over rather than grow
        self._cache[key] = entry

    def invalidate(self, token_sha256: str) -> None:
        """A token was revoked (bus event): drop it here, and make the host's other gateway
        processes look again too."""
        self._cache.pop(token_sha256, None)
        self.epoch.bump()

    def __len__(self) -> int:
        return len(self._cache)


def _expired(p: Principal | None) -> bool:
    return p is not None and p.expires_at_ms > 0 and p.expires_at_ms <= time.time() * 1000


def set_actor(request: web.Request, principal: Principal | None, *, session: bool = False) -> None:
    """Make `principal` the audit actor of this request, which every gRPC call then carries
    (servicekit.audit): None is an anonymous caller, known by its address only. A token's
    name goes along, never its value; a password login or a web session (whose cookie holds
    a token) goes as no token."""
    client = request.remote or ""
    if principal is None:
        audit.actor_var.set(audit.Actor(login="", token=None, client=client))
        return
    token = (principal.token_name or "token") if principal.method == "token" and not session else None
    audit.actor_var.set(audit.Actor(login=principal.login, token=token, client=client))


#: request[keys.PRINCIPAL] before the caller is resolved (observe_middleware sets it first
#: thing): testing for a missing key would raise and catch a KeyError on every request
UNRESOLVED = object()


def known_principal(request: web.Request) -> Principal | None | object:
    """The caller if this request resolved it already, else UNRESOLVED."""
    try:
        return request[keys.PRINCIPAL]
    except KeyError:  # an app without observe_middleware (unit tests)
        return UNRESOLVED


def resolved_principal(request: web.Request) -> Principal | None:
    """The caller as far as this request resolved it: None when anonymous or not resolved yet."""
    known = known_principal(request)
    return None if known is UNRESOLVED else known  # type: ignore[return-value]


async def principal_of(request: web.Request) -> Principal | None:
    """The caller (None = anonymous), resolved once per request. Unauthenticated when the
    request carries a credential that is malformed, unknown, expired or revoked."""
    known = known_principal(request)
    if known is not UNRESOLVED:
        return known  # type: ignore[return-value]
    cred = extract_credential(request)
    principal = None
    if cred is not None:
        principal = await request.config_dict[keys.RESOLVER].resolve(cred, request.remote or "")
        set_actor(request, principal)
    request[keys.PRINCIPAL] = principal
    return principal


async def require_principal(request: web.Request) -> Principal:
    principal = await principal_of(request)
    if principal is None:
        raise errors.Unauthenticated("authentication required: log in first (anaconda login) or pass a token")
    return principal
