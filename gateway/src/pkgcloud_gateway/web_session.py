"""Web UI sessions and CSRF tokens.

A session is an auth-svc token named "web-session" with a short max-age, carried in an
HttpOnly cookie: auth-svc stores only its hash, the credential cache and the revocation
event treat it like any token, and logging out revokes it. The gateway keeps no state.

CSRF tokens are derived from the secret the browser already holds in an HttpOnly cookie (the
session token, or before login a random pre-session value), so any gateway replica can check
them without shared storage and a page on another site can neither read nor compute them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from aiohttp import web
from pkgcloud_protos.v1 import auth_pb2
from pkgcloud_servicekit import errors, scopes

from . import keys
from .clients import call
from .credentials import UNRESOLVED, Credential, Principal, known_principal, resolved_principal, set_actor, token_hash

SESSION_COOKIE = "pkgcloud_session"
PRESESSION_COOKIE = "pkgcloud_presession"
SESSION_TOKEN_NAME = "web-session"
SESSION_MAX_AGE_S = 12 * 3600
CSRF_FIELD = "csrf_token"

#: the pre-session secret chosen for this request, to be set as a cookie on the answer
_NEW_PRESESSION = web.RequestKey("web_new_presession", str)
#: the session cookie held a dead token: clear it on the answer
_DROP_SESSION = web.RequestKey("web_drop_session", bool)


def _secure(request: web.Request) -> bool:
    return request.config_dict[keys.SETTINGS].effective_public_url().startswith("https://")


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="Lax", secure=_secure(request))


async def session_principal(request: web.Request) -> Principal | None:
    """The logged-in user of this browser, or None. Resolved once per request and stored where
    credentials.principal_of looks, so policy.py sees the session's user like any caller."""
    known = known_principal(request)
    if known is not UNRESOLVED:
        return known  # type: ignore[return-value]
    token = request.cookies.get(SESSION_COOKIE, "")
    principal = None
    if token:
        try:
            principal = await request.config_dict[keys.RESOLVER].resolve_token(token)
        except errors.Unauthenticated:
            request[_DROP_SESSION] = True  # expired or revoked: the browser is simply logged out
        # only what log_in hands out is a session: a user's token holding every scope. A
        # narrower token planted in the cookie must not shed its scopes (pages check none)
        if principal is not None and (principal.user_type != "user" or not scopes.grants(principal.scopes or ("all",), "all")):
            principal = None
            request[_DROP_SESSION] = True
    set_actor(request, principal, session=True)
    request[keys.PRINCIPAL] = principal
    return principal


async def log_in(request: web.Request, login: str, password: str) -> tuple[Principal, str]:
    """Check the password (auth-svc throttles guessing) and open a session: (user, token)."""
    resolver = request.config_dict[keys.RESOLVER]
    user = await resolver.resolve(Credential("password", password, login=login, scheme="form"), request.remote or "")
    if user.user_type != "user":
        raise errors.Unauthenticated("an organization cannot log in")
    created = await call(request.config_dict[keys.CLIENTS].auth.CreateToken(auth_pb2.CreateTokenRequest(
        login=user.login, name=SESSION_TOKEN_NAME, max_age_s=SESSION_MAX_AGE_S, hostname="web browser",
        remote_addr=request.remote or "",
    )))
    return user, created.token


async def log_out(request: web.Request) -> None:
    token = request.cookies.get(SESSION_COOKIE, "")
    principal = await session_principal(request)
    if token and principal is not None:
        await call(request.config_dict[keys.CLIENTS].auth.RevokeToken(auth_pb2.RevokeTokenRequest(login=principal.login, token=token)))
        request.config_dict[keys.RESOLVER].invalidate(token_hash(token))


def start_session(request: web.Request, response: web.StreamResponse, token: str) -> None:
    set_cookie(request, response, SESSION_COOKIE, token, SESSION_MAX_AGE_S)


def end_session(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")


def _derive(secret: str) -> str:
    return hmac.new(b"pkgcloud-web-csrf", secret.encode(), hashlib.sha256).hexdigest()


def _csrf_secret(request: web.Request) -> str:
    """The session token when logged in, else the browser's pre-session value."""
    if resolved_principal(request) is not None:
        return request.cookies.get(SESSION_COOKIE, "")
    return request.get(_NEW_PRESESSION) or request.cookies.get(PRESESSION_COOKIE, "")


def csrf_token(request: web.Request) -> str:
    """The token every form of this page carries (choosing a pre-session value if needed)."""
    secret = _csrf_secret(request)
    if not secret:
        secret = request[_NEW_PRESESSION] = secrets.token_urlsafe(32)
    return _derive(secret)


async def check_csrf(request: web.Request, form) -> None:
    """Forbidden unless the form's token is the one derived from this browser's secret."""
    await session_principal(request)
    secret = _csrf_secret(request)
    sent = form.get(CSRF_FIELD, "")
    if not secret or not isinstance(sent, str) or not hmac.compare_digest(sent, _derive(secret)):
        raise errors.Forbidden("the form's security token is missing or out of date: reload the page and try again")


def finish(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Cookies this request decided on."""
    if _NEW_PRESESSION in request:
        set_cookie(request, response, PRESESSION_COOKIE, request[_NEW_PRESESSION], None)
    if request.get(_DROP_SESSION):
        end_session(response)
    return response
