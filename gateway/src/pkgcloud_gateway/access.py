"""Access is declared where a route is registered (ADR 0007).

Every gateway route is registered through `routing.add_route` with a `Rule`: what the route
acts on (`On`), the permission it needs there, and the token scope it needs. The guard built
here resolves the caller and enforces the rule before the handler runs; the handler gets the
outcome as `grant(request)` (the principal, and the package, or what the caller may read of
the owner) and never checks again. A route whose handler carries no rule makes `init_app`
fail (`check_every_route`), so no route can forget its check.

The rules every route uses are the constants below: this module is the table. Routes that
share a rule share a constant, so a reader finds here every kind of access the gateway
grants, and the route table (`route_rules`) says which route uses which. The access matrix
(tests/test_access_matrix.py) is built from the same table.

Order of the checks, the same for every rule: bad credentials (401), no caller where one is
needed (401), the token's scope (403), the permission (403, or the route's not-found answer
when the caller may not learn the resource exists). All of it happens before the body is
read and before anything is looked up for a writer, so a refused caller learns nothing about
the request body or whether the resource exists.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace

from aiohttp import web
from pkgcloud_protos.v1 import registry_pb2
from pkgcloud_servicekit import errors
from pkgcloud_servicekit.permissions import Permission, at_least, parse

from . import keys, policy
from .clients import call
from .credentials import UNRESOLVED, Principal, extract_credential, known_principal, principal_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class On(enum.Enum):
    """What a route acts on."""

    #: nothing of anyone's: public, or the answer does not depend on the caller
    NOTHING = "nothing"
    #: the caller's own account (tokens, password, organizations they create)
    ACCOUNT = "account"
    #: an owner account as a whole (`{owner}` or `{org}` in the path): labels, indexes, listings
    OWNER = "owner"
    #: one package of an owner (`{owner}` and `{package}` or `{project}` in the path)
    PACKAGE = "package"
    #: an organization's groups and their members and packages (`{org}` in the path)
    ORG_GROUPS = "org groups"


class Credentials(enum.Enum):
    #: resolved; a malformed, unknown, expired or revoked one answers 401
    CHECKED = "checked"
    #: not looked at: the route answers the same whatever came along (server probe, scopes)
    IGNORED = "ignored"
    #: only a login and password will do (creating tokens)
    PASSWORD = "password"
    #: only a token will do: the request acts on the token it carries (logout)
    TOKEN = "token"


@dataclass(frozen=True)
class Rule:
    on: On
    permission: Permission
    #: the token scope needed; None: none (public routes, and web UI sessions, which hold every scope)
    scope: str | None
    #: the answer a caller gets who may not learn that the resource exists
    not_found: str = "Not found"
    credentials: Credentials = Credentials.CHECKED
    #: the path parameter naming the owner
    owner_param: str = "owner"
    #: a 401 carries `WWW-Authenticate: Basic` (pip and twine then ask for credentials)
    basic_challenge: bool = False
    #: the 403 of a caller without the permission ({login}, {owner}); "" = by what it acts on
    refused: str = ""
    #: read rules on an owner or package: anyone reads the public part, and a caller without
    #: the scope or the permission gets the public answer (False: they are refused instead)
    public_part: bool = True
    #: a write under this rule may change who may do what (tokens, groups, collaborators):
    #: once its handler ran, every gateway process on the host forgets what it had cached
    #: of credentials and grants (access_epoch.py)
    changes_access: bool = False

    def refusal(self, login: str, owner: str, needed: Permission) -> str:
        if self.refused:
            template = self.refused
        elif self.on is On.ORG_GROUPS:
            template = "{login} may not change the groups of {owner}"
        elif needed is Permission.ADMIN:
            template = "{login} is no admin of {owner}"
        else:
            template = "{login} may not change packages of {owner}"
        return template.format(login=login, owner=owner)

    def describe(self) -> str:
        scope = self.scope or "-"
        extra = "" if self.credentials is Credentials.CHECKED else f", credentials {self.credentials.value}"
        return f"{self.permission.value} on {self.on.value}, scope {scope}{extra}"


R, W, A, NONE = Permission.READ, Permission.WRITE, Permission.ADMIN, Permission.NONE

# --- the table ------------------------------------------------------------------------------
# public
PROBE = Rule(On.NOTHING, NONE, None, credentials=Credentials.IGNORED)  # server probe, scope list, metrics, static
PUBLIC = Rule(On.NOTHING, NONE, None)  # public data; a bad credential is still a 401
SIGN_UP = Rule(On.NOTHING, NONE, None, credentials=Credentials.IGNORED)
#: the embedded S3 form: its one-time upload key (from a stage answer, itself a package write) is the credential
UPLOAD_KEY = Rule(On.NOTHING, NONE, None, credentials=Credentials.IGNORED)
# the caller's own account
OWN_ACCOUNT_READ = Rule(On.ACCOUNT, R, "api:read")
OWN_ACCOUNT_WRITE = Rule(On.ACCOUNT, W, "api:write", changes_access=True)
#: GET /authentication: what the credential in use is; any valid one may ask
OWN_CREDENTIAL = Rule(On.ACCOUNT, R, None)
#: logout: revoke the token in use (no scope: a token may always give itself up)
OWN_TOKEN_REVOKE = Rule(On.ACCOUNT, W, None, credentials=Credentials.TOKEN, changes_access=True)
TOKEN_CREATE = Rule(On.ACCOUNT, A, None, credentials=Credentials.PASSWORD, refused="{login} may not manage the tokens of {owner}")
ORG_TOKENS = Rule(On.OWNER, A, "api:write", owner_param="org", refused="{login} may not manage the tokens of {owner}", changes_access=True)
# anaconda API: packages, releases, files
API_OWNER_READ = Rule(On.OWNER, R, "api:read", not_found="User not found")
API_PACKAGE_READ = Rule(On.PACKAGE, R, "api:read", not_found="Package not found")
API_RELEASE_READ = replace(API_PACKAGE_READ, not_found="Release not found")
API_DIST_READ = replace(API_PACKAGE_READ, not_found="Distribution not found")
#: a download: what the caller reads of the owner goes to the registry with the lookup, which
#: applies it (OpenDownload: one call, and a private file answers as a missing one)
API_DOWNLOAD = Rule(On.OWNER, R, "api:read", not_found="File not found")
PACKAGE_WRITE = Rule(On.PACKAGE, W, "api:write", not_found="Package not found")
#: a write that can change who reads what of a package: its privacy, or removing it (or a
#: release or file of it), so no cache goes on serving what it resolved before
PACKAGE_SETTINGS = replace(PACKAGE_WRITE, changes_access=True)
#: who may read a package is the business of those who may change it
COLLABORATORS_WRITE = replace(PACKAGE_WRITE, changes_access=True)
COLLABORATORS_READ = Rule(On.PACKAGE, W, "api:read", not_found="Package not found")
# labels: the owner's, as a whole
LABELS_READ = Rule(On.OWNER, W, "api:read")
LABELS_WRITE = Rule(On.OWNER, W, "api:write")
# the audit trail of an owner (who changed what): the account itself and its org's admins
AUDIT_READ = Rule(On.OWNER, A, "api:read")
# organizations' groups
GROUPS_READ = Rule(On.ORG_GROUPS, R, "api:read", not_found="Group not found", owner_param="org")
GROUPS_WRITE = Rule(On.ORG_GROUPS, A, "api:modify-group", not_found="Group not found", owner_param="org", changes_access=True)
# channels and indexes: what the caller reads of the owner picks the view
CONDA_READ = Rule(On.OWNER, R, "conda:download", not_found="Not found")
PYPI_READ = Rule(On.OWNER, R, "pypi:download", not_found="Not found", basic_challenge=True)
#: twine: the project is named in the body, so the layer admits the owner's writers and members
#: here and `Grant.require_write` decides on the project before anything is created
PYPI_UPLOAD = Rule(On.OWNER, R, "pypi:upload", basic_challenge=True, public_part=False)
PYPI_YANK = Rule(On.PACKAGE, W, "api:write", basic_challenge=True)
NOTEBOOK_READ = Rule(On.OWNER, R, "api:read", not_found="Notebook not found")
ENV_READ = Rule(On.OWNER, R, "api:read", not_found="Environment not found")
# the web UI: a session is the credential (tokens are no session: web_session.py)
WEB_PUBLIC = Rule(On.NOTHING, NONE, None)
#: logging out of the web UI revokes the session's token
WEB_LOGOUT = replace(WEB_PUBLIC, changes_access=True)
WEB_ACCOUNT = Rule(On.ACCOUNT, W, None, changes_access=True)
WEB_OWNER_READ = Rule(On.OWNER, R, None, not_found="User not found")
WEB_PACKAGE_READ = Rule(On.PACKAGE, R, None, not_found="Package not found")
WEB_PACKAGE_WRITE = Rule(On.PACKAGE, W, None, not_found="Package not found")
WEB_PACKAGE_SETTINGS = replace(WEB_PACKAGE_WRITE, changes_access=True)
WEB_ORG_ADMIN = Rule(On.ORG_GROUPS, A, None, not_found="Organization not found", owner_param="org", changes_access=True)


# --- what the handler gets -------------------------------------------------------------------

@dataclass
class Grant:
    """The outcome of the rule: handlers read it instead of asking again."""

    rule: Rule
    principal: Principal | None = None
    owner: str = ""
    #: the caller's permission on the owner (or package), as far as the rule needed it
    permission: Permission = Permission.NONE
    #: On.PACKAGE reads: the package, looked up once
    package: registry_pb2.Package | None = None
    #: On.OWNER reads: what the caller may read of the owner (the view of indexes and listings)
    access: policy.ReadAccess = policy.NO_ACCESS
    _request: web.Request | None = None

    @property
    def login(self) -> str:
        assert self.principal is not None, "the rule admits anonymous callers"
        return self.principal.login

    def require_readable(self, package: str, public: bool, not_found: str = "") -> None:
        """For owner-wide reads: the route's not-found answer unless `access` covers this package."""
        if not self.access.may_read(package, public):
            raise errors.NotFound(not_found or self.rule.not_found)

    async def require_write(self, owner: str, package: str = "") -> None:
        """The same write rule, for a resource the request body names (twine's project, a
        copy's destination owner): decided before anything is created there."""
        assert self._request is not None
        await _require_write(self._request, self.rule, self.principal, owner, package, Permission.WRITE)

    async def require_admin(self, owner: str) -> None:
        """Admin on an account the body names (`"user": ORG` when creating a token)."""
        assert self._request is not None
        await _require_write(self._request, self.rule, self.principal, owner, "", Permission.ADMIN)


GRANT = web.RequestKey("access_grant", Grant)


def grant(request: web.Request) -> Grant:
    return request[GRANT]


# --- enforcement --------------------------------------------------------------------------------

def _forbidden_scope(scope: str) -> errors.Forbidden:
    return errors.Forbidden(f"this token does not carry the {scope!r} scope")


async def _require_write(request: web.Request, rule: Rule, principal: Principal | None, owner: str, package: str,
                         needed: Permission) -> Permission:
    if principal is None:
        raise errors.Unauthenticated("authentication required: log in first (anaconda login) or pass a token")
    permission = parse(await policy.permission_on(request.config_dict[keys.CLIENTS].auth, principal, owner, package))
    if not at_least(permission, needed):
        if rule.on is On.ORG_GROUPS and not at_least(permission, Permission.READ):
            raise errors.NotFound(rule.not_found)  # a stranger learns nothing of the org's groups
        raise errors.Forbidden(rule.refusal(principal.login, owner, needed))
    return permission


def _anonymous(request: web.Request, rule: Rule) -> bool:
    """Whether the request carries no credential at all (then recorded as anonymous)."""
    if rule.basic_challenge:
        request[keys.BASIC_CHALLENGE] = True
    known = known_principal(request)
    if known is UNRESOLVED and extract_credential(request) is None:
        request[keys.PRINCIPAL] = None
        return True
    return known is None


async def _principal(request: web.Request, rule: Rule) -> Principal | None:
    if rule.basic_challenge:
        request[keys.BASIC_CHALLENGE] = True
    if rule.credentials is Credentials.PASSWORD:
        scheme = request.headers.get("Authorization", "").strip().partition(" ")[0].lower()
        if scheme == "bearer":
            # anaconda-client falls back to the password flow on exactly this answer (§4.1)
            raise errors.Unauthenticated("Bearer token authentication is not enabled")
        cred = extract_credential(request)
        if cred is None or cred.kind != "password":
            raise errors.Unauthenticated("log in with your username and password (HTTP Basic authentication)")
    if rule.credentials is Credentials.TOKEN:
        cred = extract_credential(request)
        if cred is None or cred.kind != "token":
            raise errors.Unauthenticated("this request needs a token (Authorization: token <TOKEN>)")
    known = known_principal(request)
    if known is UNRESOLVED and extract_credential(request) is None:
        request[keys.PRINCIPAL] = None  # anonymous, known without an await
        return None
    return await principal_of(request)


async def enforce(request: web.Request, rule: Rule) -> Grant:
    """Resolve the caller and apply `rule`; the grant, or the refusal raised."""
    out = Grant(rule, _request=request)
    if rule.credentials is Credentials.IGNORED:
        return out
    principal = out.principal = await _principal(request, rule)
    m = request.match_info
    owner = out.owner = m.get(rule.owner_param, "")
    if rule.on is On.ORG_GROUPS:
        owner = out.owner = owner.lower()
    package = (m.get("package") or m.get("project") or "") if rule.on is On.PACKAGE else ""

    if rule.on is On.NOTHING:
        return out
    if rule.permission is Permission.READ and rule.on in (On.OWNER, On.PACKAGE) and rule.public_part:
        # a token without the scope reads what anonymous reads (no 403: the same answers as
        # for anyone who may not read the private packages). Anonymous: the public part, with
        # no further call (the hot path of every index read)
        out.access = policy.NO_ACCESS if principal is None else await policy.read_access(request, owner, rule.scope)
        if rule.on is On.PACKAGE:
            out.package = await _readable_package(request, rule, out.access, owner, package)
        return out
    quiet = rule.on is On.ORG_GROUPS and rule.permission is Permission.READ
    if principal is None:
        if quiet:
            raise errors.NotFound(rule.not_found)  # an org's groups are its members' business
        raise errors.Unauthenticated("authentication required: log in first (anaconda login) or pass a token")
    if rule.scope is not None and not policy.token_grants(principal, rule.scope):
        if quiet:
            raise errors.NotFound(rule.not_found)  # reads without the scope: as anonymous
        raise _forbidden_scope(rule.scope)
    if rule.on is On.ACCOUNT:
        out.owner = principal.login
        out.permission = Permission.ADMIN
        return out
    out.permission = await _require_write(request, rule, principal, owner, package, rule.permission)
    return out


async def _readable_package(request: web.Request, rule: Rule, access: policy.ReadAccess, owner: str, name: str) -> registry_pb2.Package:
    try:
        package = await call(request.config_dict[keys.CLIENTS].registry.GetPackage(registry_pb2.PackageRef(owner=owner, name=name)))
    except (errors.NotFound, errors.Invalid):
        raise errors.NotFound(rule.not_found) from None
    if not access.may_read(package.name, package.public):
        raise errors.NotFound(rule.not_found)
    return package


def guarded(handler: Handler, rule: Rule) -> Handler:
    """`handler` behind `rule`; the rule stays readable on the result (`rule_of`)."""
    if not isinstance(rule, Rule):
        raise RouteWithoutRule(f"{getattr(handler, '__qualname__', handler)!r} is registered without an access rule")

    # an owner-wide public read (every index document, page and download): an anonymous
    # caller gets the public part, decided without an await
    public_read = (rule.on is On.OWNER and rule.permission is Permission.READ and rule.public_part
                   and rule.credentials is Credentials.CHECKED)

    @functools.wraps(handler)
    async def guard(request: web.Request) -> web.StreamResponse:
        anonymous = public_read and _anonymous(request, rule)
        request[GRANT] = Grant(rule, None, request.match_info.get(rule.owner_param, ""), _request=request) if anonymous \
            else await enforce(request, rule)
        if not rule.changes_access or request.method in ("GET", "HEAD"):
            return await handler(request)
        try:
            return await handler(request)
        finally:
            # also after a failure: the change may have been made before it
            epoch = request.config_dict.get(keys.ACCESS_EPOCH)
            if epoch is not None:  # None: an app built without init_app (unit tests)
                epoch.bump()

    guard.__access_rule__ = rule  # type: ignore[attr-defined]
    return guard


def mark(handler: Handler, rule: Rule) -> Handler:
    """An outer wrapper (the web UI's `page`, twine's error answers) around a guarded handler
    keeps its rule visible."""
    handler.__access_rule__ = rule  # type: ignore[attr-defined]
    return handler


def rule_of(handler) -> Rule | None:
    return getattr(handler, "__access_rule__", None)


class RouteWithoutRule(RuntimeError):
    """A route was registered without an access rule: the gateway refuses to start."""


def _apps(app: web.Application) -> Iterator[web.Application]:
    yield app
    for resource in app.router.resources():
        sub = getattr(resource, "_app", None)  # path-prefixed and per-host sub-applications
        if isinstance(sub, web.Application):
            yield from _apps(sub)


def route_rules(app: web.Application) -> dict[tuple[str, str], Rule | None]:
    """(method, path as mounted) -> rule, for every route of `app` and its sub-apps (HEAD twins
    and /t/<token> twins included; a sub-app's paths carry its prefix, a per-host one's do
    not). None: a route without a rule."""
    out: dict[tuple[str, str], Rule | None] = {}
    for sub in _apps(app):
        for route in sub.router.routes():
            if route.resource is not None:
                out[(route.method, route.resource.canonical)] = rule_of(route.handler)
    return out


def check_every_route(app: web.Application) -> None:
    """RouteWithoutRule naming every route registered without a rule."""
    missing = sorted(f"{m} {p}" for (m, p), rule in route_rules(app).items() if rule is None)
    if missing:
        raise RouteWithoutRule("routes registered without an access rule (use routing.add_route with a rule from access.py): "
                               + ", ".join(missing))


def named_rules() -> dict[int, str]:
    """id(rule) -> its name in the table above (rules equal in value stay apart by name)."""
    return {id(value): name for name, value in globals().items() if isinstance(value, Rule)}


def describe(app: web.Application) -> str:
    """The route table: every route as mounted (twins left out), its rule's name and meaning."""
    names = named_rules()
    lines = []
    for (method, path), rule in sorted(route_rules(app).items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if method == "HEAD" or "/t/{" in path:
            continue
        name = names.get(id(rule), "(unnamed)") if rule is not None else "(none)"
        lines.append(f"{method:6} {path:70} {name:20} {rule.describe() if rule else ''}")
    return "\n".join(lines)
