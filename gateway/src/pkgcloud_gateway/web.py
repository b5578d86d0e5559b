"""The web UI: server-rendered pages on the bare domain (and at / without a base domain).

Pages are thin like every other handler: who the browser is comes from its session
(web_session.py), what it may see or change from policy.py, the data from auth-svc and
registry-svc. Every page goes through `page`: session, CSRF check on POST, and HTML error
pages (the protocol routes keep their JSON errors). No script anywhere: forms and links only,
under a Content-Security-Policy that allows none.

Routes use words auth-svc reserves as logins (login, signup, settings, orgs, static), so no
account can shadow them; package-level actions sit below /<owner>/<package>/.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import grpc
import jinja2
from aiohttp import web
from pkgcloud_protos.v1 import auth_pb2, common_pb2, registry_pb2
from pkgcloud_servicekit import errors
from pkgcloud_servicekit.errors import ServiceError, from_rpc_error

from . import access, audit_trail, keys, policy, web_catalog
from .access import grant
from .api_private import set_public
from .clients import call
from .credentials import resolved_principal
from .downloads import open_download, send_blob
from .envs import newest_env_file
from .representations import iso
from .routing import add_route, protocol_base_url
from .web_session import (
    CSRF_FIELD,
    check_csrf,
    csrf_token,
    end_session,
    finish,
    log_in,
    log_out,
    session_principal,
    start_session,
)

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "web_templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
CSS = (HERE / "web_static" / "web.css").read_bytes()
PACKAGE_NOT_FOUND = "Package not found"
ORG_NOT_FOUND = "Organization not found"
_PERMISSIONS = {"read": auth_pb2.PERMISSION_READ, "write": auth_pb2.PERMISSION_WRITE, "admin": auth_pb2.PERMISSION_ADMIN}
_PERMISSION_NAMES = {v: k for k, v in _PERMISSIONS.items()}


def add_routes(app: web.Application) -> None:
    """The web UI on the bare domain when host routing is on, else on the root application.

    aiohttp tries domain sub-apps only after every path route of the root, so with a base domain
    the pages must live in their own domain sub-app, or `/{owner}` would shadow api.<domain>/...
    """
    settings = app.get(keys.SETTINGS)
    if settings is not None and settings.base_domain:
        ui = web.Application()
        _register(ui.router)
        app.add_domain(settings.base_domain, ui)
    else:
        _register(app.router)


def _register(r: web.UrlDispatcher) -> None:
    def page_route(method: str, path: str, handler, rule: access.Rule) -> None:
        # `page` outside the access guard: its refusals become HTML pages (or the login redirect)
        add_route(r, method, path, handler, rule, token_twin=False, wrap=page)

    page_route("GET", "/", home, access.WEB_PUBLIC)
    add_route(r, "GET", "/static/web.css", stylesheet, access.PROBE, token_twin=False)
    for method in ("GET", "POST"):
        page_route(method, "/signup", signup, access.WEB_PUBLIC)
        page_route(method, "/login", login, access.WEB_PUBLIC)
    page_route("POST", "/logout", logout, access.WEB_LOGOUT)
    page_route("GET", "/settings/tokens", tokens, access.WEB_ACCOUNT)
    page_route("POST", "/settings/tokens", tokens, access.WEB_ACCOUNT)
    page_route("POST", "/settings/tokens/revoke", revoke_token, access.WEB_ACCOUNT)
    # the audit trail: one's own account, and an org's for its admins
    page_route("GET", "/settings/activity", activity, access.WEB_ACCOUNT)
    page_route("GET", "/orgs/{org}/activity", activity, access.WEB_ORG_ADMIN)
    page_route("GET", "/orgs/new", new_org, access.WEB_ACCOUNT)
    page_route("POST", "/orgs/new", new_org, access.WEB_ACCOUNT)
    # admins only: the group table names every group's packages, private ones included,
    # which a member reading only some of them must not learn (the access matrix checks it)
    page_route("GET", "/orgs/{org}/settings", org_settings, access.WEB_ORG_ADMIN)
    page_route("POST", "/orgs/{org}/groups", org_put_group, access.WEB_ORG_ADMIN)
    page_route("POST", "/orgs/{org}/members", org_change_member, access.WEB_ORG_ADMIN)
    page_route("GET", "/search", search, access.WEB_PUBLIC)
    page_route("GET", "/{owner}", owner_page, access.WEB_OWNER_READ)
    page_route("GET", "/{owner}/{package}", package_page, access.WEB_PACKAGE_READ)
    # anaconda.org's tab URLs (issue 13)
    page_route("GET", "/{owner}/{package}/{tab:files|labels}", package_page, access.WEB_PACKAGE_READ)
    page_route("GET", "/{owner}/{package}/notebook", notebook_page, access.WEB_PACKAGE_READ)
    page_route("GET", "/{owner}/{package}/files/{version}/{basename:.+}", download_file, access.WEB_PACKAGE_READ)
    page_route("POST", "/{owner}/{package}/versions/remove", remove_versions, access.WEB_PACKAGE_SETTINGS)
    page_route("POST", "/{owner}/{package}/privacy", change_privacy, access.WEB_PACKAGE_SETTINGS)
    page_route("POST", "/{owner}/{package}/delete", delete_package, access.WEB_PACKAGE_SETTINGS)


# --- plumbing ------------------------------------------------------------------------

def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _headers(request: web.Request) -> dict[str, str]:
    notebooks = _origin(protocol_base_url(request, "notebooks"))
    return {
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; img-src 'self'; "
            f"frame-src {notebooks}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        # pages differ per session and may show a token once: never keep them
        "Cache-Control": "no-store",
    }


def render(request: web.Request, template: str, *, status: int = 200, **context) -> web.Response:
    context.update(me=resolved_principal(request), csrf_field=CSRF_FIELD, csrf=csrf_token(request), path=request.path)
    body = TEMPLATES.get_template(template).render(**context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8", headers=_headers(request))


def redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _safe_next(value: str, default: str) -> str:
    """Only same-site paths: `next` must not turn the login page into an open redirect."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def page(handler):
    """Session, CSRF on every POST, and one HTML error page for whatever fails."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            await session_principal(request)
            if request.method == "POST":
                await check_csrf(request, await request.post())
            response = await handler(request)
        except web.HTTPException as e:
            if e.status < 400:
                raise
            response = _error_page(request, e.status, e.reason or "error")
        except ServiceError as e:
            response = _service_error(request, e)
        except grpc.aio.AioRpcError as e:
            response = _service_error(request, from_rpc_error(e))
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.rel_url.path)
            response = _error_page(request, 500, "internal server error")
        if isinstance(response, web.Response):
            finish(request, response)
        return response

    return wrapped


def _service_error(request: web.Request, e: ServiceError) -> web.Response:
    if isinstance(e, errors.Unauthenticated) and request.method == "GET":
        return redirect("/login?next=" + quote(request.path_qs, safe="/"))
    if e.http_status >= 500:
        log.error("backend failure in %s %s: %s", request.method, request.rel_url.path, e.message)
    return _error_page(request, e.http_status, e.message)


def _error_page(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "error.html", status=status, title=f"Error {status}", status_code=status, message=message)


def _when(ms: int, none: str = "") -> str:
    """A timestamp as people read it (UTC, to the minute)."""
    return iso(ms)[:16].replace("T", " ") + " UTC" if ms else none


def _clients(request: web.Request):
    return request.config_dict[keys.CLIENTS]


def _me(request: web.Request):
    """The logged-in user, on routes whose rule needs one (access.WEB_ACCOUNT and the like)."""
    return grant(request).principal


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


# --- home, static, accounts ----------------------------------------------------------------

async def home(request: web.Request) -> web.Response:
    me = resolved_principal(request)
    if me is not None:
        return redirect(f"/{me.login}")
    return render(request, "home.html", title="pkgcloud", recent=await web_catalog.recent_public(request))


async def search(request: web.Request) -> web.Response:
    q = request.query
    query, kind, platform = q.get("q", "").strip(), q.get("type", ""), q.get("platform", "")
    rows = await web_catalog.search_results(request, query, kind, platform) if query or kind or platform else []
    return render(request, "search.html", title=f"Search {query}" if query else "Search", q=query, kind=kind, platform=platform,
                  rows=rows, facets=web_catalog.facets(rows), searched=bool(query or kind or platform))


async def stylesheet(request: web.Request) -> web.Response:
    return web.Response(body=CSS, content_type="text/css", headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


async def signup(request: web.Request) -> web.Response:
    values = {"login": "", "email": "", "name": ""}
    if request.method == "POST":
        form = await _form(request)
        values = {k: form.get(k, "").strip() for k in values}
        try:
            if not form.get("password"):
                raise errors.Invalid("a password is required")
            await call(_clients(request).auth.CreateUser(auth_pb2.CreateUserRequest(
                login=values["login"], email=values["email"], password=form["password"], name=values["name"],
            )))
            user, token = await log_in(request, values["login"], form["password"])
        except (errors.Invalid, errors.Conflict, errors.Throttled) as e:
            return render(request, "signup.html", status=e.http_status, title="Sign up", error=e.message, values=values)
        response = redirect(f"/{user.login}")
        start_session(request, response, token)
        return response
    return render(request, "signup.html", title="Sign up", error="", values=values)


async def login(request: web.Request) -> web.Response:
    next_url = _safe_next(request.query.get("next", ""), "")
    if request.method == "POST":
        form = await _form(request)
        next_url = _safe_next(form.get("next", ""), "")
        try:
            user, token = await log_in(request, form.get("login", "").strip(), form.get("password", ""))
        except (errors.Unauthenticated, errors.Invalid, errors.NotFound, errors.Throttled) as e:
            status = 429 if isinstance(e, errors.Throttled) else 401
            message = e.message if isinstance(e, errors.Throttled) else "wrong login or password"
            return render(request, "login.html", status=status, title="Log in", error=message, next=next_url,
                          login_value=form.get("login", ""))
        response = redirect(next_url or f"/{user.login}")
        start_session(request, response, token)
        return response
    return render(request, "login.html", title="Log in", error="", next=next_url, login_value="")


async def logout(request: web.Request) -> web.Response:
    await log_out(request)
    response = redirect("/")
    end_session(response)
    return response


# --- tokens ----------------------------------------------------------------------------

async def _token_page(request: web.Request, *, status: int = 200, created: str = "", error: str = "") -> web.Response:
    me = _me(request)
    auth = _clients(request).auth
    listed = await call(auth.ListTokens(auth_pb2.ListTokensRequest(login=me.login)))
    known = await call(auth.ListScopes(auth_pb2.ListScopesRequest()))
    rows = [{
        "id": t.id, "name": t.name, "scopes": ", ".join(t.scopes), "created": _when(t.created_at_ms),
        "expires": _when(t.expires_at_ms, "never"), "last_used": _when(t.last_used_ms, "never"),
    } for t in sorted(listed.tokens, key=lambda t: -t.created_at_ms)]
    return render(request, "tokens.html", status=status, title="Tokens", tokens=rows,
                  scopes=[(s.name, s.description) for s in known.scopes], created=created, error=error)


async def tokens(request: web.Request) -> web.Response:
    me = _me(request)
    if request.method != "POST":
        return await _token_page(request)
    form = await request.post()
    name = str(form.get("name", "")).strip()
    chosen = [str(s) for s in form.getall("scopes", [])]
    try:
        days = int(str(form.get("expires_days", "0")).strip() or "0")
        if days < 0 or days > 3650:
            raise ValueError
    except ValueError:
        return await _token_page(request, status=400, error="the expiry must be a number of days between 0 and 3650")
    if not name:
        return await _token_page(request, status=400, error="give the token a name")
    try:
        created = await call(_clients(request).auth.CreateToken(auth_pb2.CreateTokenRequest(
            login=me.login, name=name, scopes=chosen, max_age_s=days * 86400, hostname="web browser",
            remote_addr=request.remote or "",
        )))
    except errors.Invalid as e:
        return await _token_page(request, status=400, error=e.message)
    # shown once, on this answer only (no-store): only its hash is kept
    return await _token_page(request, created=created.token)


async def revoke_token(request: web.Request) -> web.Response:
    me = _me(request)
    form = await _form(request)
    token_id = form.get("token_id", "")
    if not token_id:
        raise errors.Invalid("which token? (token_id is missing)")
    resp = await call(_clients(request).auth.RevokeToken(auth_pb2.RevokeTokenRequest(login=me.login, token_id=token_id)))
    if resp.revoked == 0:
        raise errors.NotFound("no such token")
    return redirect("/settings/tokens")


# --- owners: users and organizations ------------------------------------------------------

async def activity(request: web.Request) -> web.Response:
    """The Activity page: the owner's audit trail as GET /api/audit/<owner> gives it."""
    owner = grant(request).owner.lower()
    action = request.query.get("action", "").strip()
    actor = request.query.get("actor", "").strip().lower()
    page = await audit_trail.read_trail(_clients(request), owner, cursor=request.query.get("cursor", ""), action=action, actor=actor)
    next_url = ""
    if page.next:
        next_url = request.path + "?" + urlencode({k: v for k, v in (("action", action), ("actor", actor), ("cursor", page.next)) if v})
    return render(request, "activity.html", title=f"Activity of {owner}", owner=owner, entries=[e.public() for e in page.entries],
                  action=action, actor=actor, next_url=next_url,
                  retention_days=request.config_dict[keys.SETTINGS].audit_retention_days)


async def _account(request: web.Request, login: str, not_found: str = "User not found") -> auth_pb2.User:
    try:
        return await call(_clients(request).auth.GetUser(auth_pb2.GetUserRequest(login=login)))
    except (errors.NotFound, errors.Invalid):
        raise errors.NotFound(not_found) from None


async def owner_page(request: web.Request) -> web.Response:
    account = await _account(request, request.match_info["owner"])
    owner = account.login
    me = resolved_principal(request)
    resp = await call(_clients(request).registry.ListPackages(registry_pb2.ListPackagesRequest(owner=owner)))
    readable = grant(request).access
    visible = sorted((p for p in resp.packages if readable.may_read(p.name, p.public)), key=lambda p: p.name.lower())
    tab = request.query.get("tab", "packages")
    if tab not in ("packages", "environments", "notebooks", "labels"):
        tab = "packages"
    label = request.query.get("label", "")
    labels: dict[str, int] = {}
    for p in visible:
        for lab in {lab for f in p.files for lab in f.labels}:
            labels[lab] = labels.get(lab, 0) + 1
    rows = []
    for p in visible:
        if label and not any(label in f.labels for f in p.files):
            continue
        if tab == "labels" and not label:
            continue
        if tab == "environments":
            newest = newest_env_file(p)
            if newest is None:
                continue
        elif tab == "notebooks" and "ipynb" not in p.package_types:
            continue
        rows.append({
            "name": p.name, "summary": p.summary, "public": p.public, "types": ", ".join(p.package_types),
            "latest": p.versions[-1] if p.versions else "", "url": f"/{owner}/{quote(p.name)}",
            "env_url": f"{protocol_base_url(request, 'envs')}/{owner}/{quote(p.name)}",
            "notebook_url": f"/{owner}/{quote(p.name)}/notebook",
        })
    orgs, is_admin = [], False
    if account.user_type == "org":
        is_admin = (await policy.permission_on(_clients(request).auth, me, owner)) == "admin"
    elif me is not None and me.login == owner:
        listed = await call(_clients(request).auth.ListOrganizations(auth_pb2.ListOrganizationsRequest(login=owner)))
        orgs = [o.login for o in listed.orgs]
    return render(request, "owner.html", title=owner, account=account, tab=tab, rows=rows, orgs=orgs, is_admin=is_admin,
                  label=label, labels=sorted(labels.items()),
                  conda_label_url=f"{protocol_base_url(request, 'conda')}/{owner}/label/{quote(label)}" if label else "")


# --- packages --------------------------------------------------------------------------

async def _readable(request: web.Request) -> registry_pb2.Package:
    """The package, looked up by the access layer for a caller who may read it."""
    pkg = grant(request).package
    assert pkg is not None
    return pkg


async def _may_write(request: web.Request, owner: str, package: str) -> bool:
    """Whether to show the forms (their routes enforce WEB_PACKAGE_WRITE themselves)."""
    me = resolved_principal(request)
    permission = await policy.permission_on(_clients(request).auth, me, owner, package)
    return policy.may_write_package(me, owner, permission)


async def _writable(request: web.Request) -> registry_pb2.Package:
    """The package, for a caller the access layer admitted as a writer. Refusals were decided
    before this lookup: a stranger learns nothing about whether a private package exists."""
    owner, name = request.match_info["owner"], request.match_info["package"]
    try:
        return await call(_clients(request).registry.GetPackage(registry_pb2.PackageRef(owner=owner, name=name)))
    except (errors.NotFound, errors.Invalid):
        raise errors.NotFound(PACKAGE_NOT_FOUND) from None


async def package_page(request: web.Request) -> web.Response:
    pkg = await _readable(request)
    tab = request.match_info.get("tab") or request.query.get("tab", "")
    tab = tab if tab in ("files", "labels") else "overview"
    label = request.query.get("label", "")
    labels = sorted({lab for f in pkg.files for lab in f.labels})
    files = [f for f in pkg.files if not label or label in f.labels]
    base = f"/{pkg.owner}/{quote(pkg.name)}"
    file_rows = [{
        "basename": f.basename, "version": f.version, "type": f.type, "subdir": f.subdir, "labels": list(f.labels),
        "size": f.size, "sha256": f.sha256, "uploaded": _when(f.upload_time_ms), "downloads": f.download_count,
        "url": f"{base}/files/{quote(f.version, safe='')}/{quote(f.basename)}",
    } for f in sorted(files, key=lambda f: (f.version, f.basename), reverse=True)]
    versions = []
    for v in reversed(pkg.versions):
        in_view = [f for f in files if f.version == v]
        if label and not in_view:
            continue
        versions.append({"version": v, "files": len(in_view)})
    return render(
        request, "package.html", title=f"{pkg.owner}/{pkg.name}", pkg=pkg, tab=tab, label=label, labels=labels,
        files=file_rows, versions=versions, base=base, may_write=await _may_write(request, pkg.owner, pkg.name),
        is_notebook="ipynb" in pkg.package_types, api_url=f"{protocol_base_url(request, 'api')}/package/{pkg.owner}/{quote(pkg.name)}",
        install=web_catalog.install_commands(request, pkg), label_rows=web_catalog.label_rows(pkg, base),
        description=await web_catalog.description_html(request, pkg) if tab == "overview" else None,
    )


async def notebook_page(request: web.Request) -> web.Response:
    pkg = await _readable(request)
    if "ipynb" not in pkg.package_types:
        raise errors.NotFound("Notebook not found")
    version = request.query.get("version", "")
    src = f"{protocol_base_url(request, 'notebooks')}/{pkg.owner}/{quote(pkg.name)}"
    if version:
        src += "/" + quote(version, safe="")
    versions = sorted({f.version for f in pkg.files if f.type == "ipynb"}, reverse=True)
    return render(request, "notebook.html", title=f"{pkg.owner}/{pkg.name}", pkg=pkg, src=src, versions=versions,
                  version=version, base=f"/{pkg.owner}/{quote(pkg.name)}")


async def download_file(request: web.Request) -> web.StreamResponse:
    """A file of the package, for whoever may read it: the session is the credential, so
    private files download from the page without a token in the URL."""
    pkg = await _readable(request)
    version, basename = request.match_info["version"], request.match_info["basename"]
    ref = common_pb2.FileRef(owner=pkg.owner, package=pkg.name, version=version, basename=basename)
    try:
        record = await open_download(request, ref, grant(request).access)
    except (errors.NotFound, errors.Invalid):
        raise errors.NotFound("File not found") from None
    return await send_blob(request, request.config_dict[keys.BLOBS], blob_key=record.blob_key, filename=record.basename,
                           sha256=record.sha256, not_found="File not found")


async def remove_versions(request: web.Request) -> web.Response:
    pkg = await _writable(request)
    form = await request.post()
    chosen = [str(v) for v in form.getall("version", [])]
    if not chosen:
        raise errors.Invalid("select at least one version to remove")
    unknown = [v for v in chosen if v not in pkg.versions]
    if unknown:
        raise errors.NotFound(f"no version {unknown[0]!r} in {pkg.owner}/{pkg.name}")
    for v in chosen:
        await call(_clients(request).registry.DeleteRelease(registry_pb2.ReleaseRef(owner=pkg.owner, package=pkg.name, version=v)))
    return redirect(f"/{pkg.owner}/{quote(pkg.name)}")


async def change_privacy(request: web.Request) -> web.Response:
    pkg = await _writable(request)
    form = await _form(request)
    choice = form.get("access", "")
    if choice not in ("public", "private"):
        raise errors.Invalid("choose public or private")
    await set_public(request, pkg.owner, pkg.name, choice == "public")
    return redirect(f"/{pkg.owner}/{quote(pkg.name)}")


async def delete_package(request: web.Request) -> web.Response:
    pkg = await _writable(request)
    form = await _form(request)
    if form.get("confirm", "") != pkg.name:
        raise errors.Invalid(f"type the package name ({pkg.name}) to confirm the deletion")
    await call(_clients(request).registry.DeletePackage(registry_pb2.PackageRef(owner=pkg.owner, name=pkg.name)))
    return redirect(f"/{pkg.owner}")


# --- organizations ---------------------------------------------------------------------

async def new_org(request: web.Request) -> web.Response:
    me = _me(request)
    values = {"login": "", "name": "", "description": ""}
    if request.method == "POST":
        form = await _form(request)
        values = {k: form.get(k, "").strip() for k in values}
        if me.user_type != "user":
            raise errors.Forbidden("an organization cannot create organizations")
        try:
            org = await call(_clients(request).auth.CreateOrganization(auth_pb2.CreateOrganizationRequest(
                login=values["login"], creator=me.login, name=values["name"], description=values["description"],
            )))
        except (errors.Invalid, errors.Conflict) as e:
            return render(request, "org_new.html", status=e.http_status, title="New organization", error=e.message, values=values)
        return redirect(f"/orgs/{org.login}/settings")
    return render(request, "org_new.html", title="New organization", error="", values=values)


async def _org(request: web.Request) -> tuple[auth_pb2.User, str]:
    """The org and the caller's permission on it (the access layer admitted its admins)."""
    allowed = grant(request)
    org = await _account(request, allowed.owner, ORG_NOT_FOUND)
    if org.user_type != "org":
        raise errors.NotFound(ORG_NOT_FOUND)
    return org, allowed.permission.value


async def org_settings(request: web.Request) -> web.Response:
    org, permission = await _org(request)
    resp = await call(_clients(request).auth.ListGroups(auth_pb2.ListGroupsRequest(org=org.login)))
    groups = [{
        "name": g.name, "permission": _PERMISSION_NAMES.get(g.permission, "none"), "members": list(g.members),
        "packages": list(g.packages),
    } for g in resp.groups]
    return render(request, "org_settings.html", title=f"{org.login} settings", org=org, groups=groups,
                  is_admin=permission == "admin", permissions=list(_PERMISSIONS))


async def org_put_group(request: web.Request) -> web.Response:
    org, _ = await _org(request)
    form = await _form(request)
    perms = form.get("permission", "read")
    if perms not in _PERMISSIONS:
        raise errors.Invalid("choose a permission: read, write or admin")
    name = form.get("name", "").strip().lower()
    await call(_clients(request).auth.PutGroup(auth_pb2.PutGroupRequest(
        ref=auth_pb2.GroupRef(org=org.login, name=name), permission=_PERMISSIONS[perms])))
    return redirect(f"/orgs/{org.login}/settings")


async def org_change_member(request: web.Request) -> web.Response:
    org, _ = await _org(request)
    form = await _form(request)
    group, login_ = form.get("group", "").strip().lower(), form.get("login", "").strip()
    if not group or not login_:
        raise errors.Invalid("name a group and a user")
    req = auth_pb2.GroupMemberRequest(ref=auth_pb2.GroupRef(org=org.login, name=group), login=login_)
    auth = _clients(request).auth
    if form.get("action") == "remove":
        await call(auth.RemoveGroupMember(req))
    else:
        await _account(request, login_)  # a clear "User not found" for a typo
        await call(auth.AddGroupMember(req))
    return redirect(f"/orgs/{org.login}/settings")
