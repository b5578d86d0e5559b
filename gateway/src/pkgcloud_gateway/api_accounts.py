"""The anaconda.org API for accounts, tokens, organizations and groups
(reference/anaconda-client-api.md §4.1-4.3, §4.8, §4.12, §7.1, §7.5, §7.8).

Handlers translate HTTP <-> protobuf and delegate: who the caller is comes from
credentials.py, whether they may from policy.py, the data from auth-svc. Success statuses
are exact: 201 for token removals, 204 for group mutations (§10.2).
"""

from __future__ import annotations

from aiohttp import web
from pkgcloud_protos.v1 import auth_pb2, registry_pb2
from pkgcloud_servicekit import errors
from pkgcloud_servicekit.permissions import Permission

from . import access, keys, policy
from .access import grant
from .clients import call
from .credentials import Credential, Principal, extract_credential, token_hash
from .jsonapi import existing_user, json_body, not_found_as, opt, str_list
from .representations import iso_or_none, token_json, user_json
from .routing import add_route

_PERMISSION_PB = {
    "read": auth_pb2.PERMISSION_READ,
    "write": auth_pb2.PERMISSION_WRITE,
    "admin": auth_pb2.PERMISSION_ADMIN,
}
_PERMISSION_NAME = {v: k for k, v in _PERMISSION_PB.items()}
GROUP_NOT_FOUND = "Group not found"


def add_routes(r: web.UrlDispatcher) -> None:
    add_route(r, "GET", "/authentication-type", authentication_type, access.PROBE)
    add_route(r, "POST", "/authentications", create_authentication, access.TOKEN_CREATE)
    add_route(r, "GET", "/authentications", list_authentications, access.OWN_ACCOUNT_READ)
    add_route(r, "DELETE", "/authentications", delete_current_authentication, access.OWN_TOKEN_REVOKE)
    add_route(r, "DELETE", "/authentications/name/{name}", delete_authentication_by_name, access.OWN_ACCOUNT_WRITE)
    add_route(r, "DELETE", "/authentications/org/{org}/name/{name}", delete_org_authentication_by_name, access.ORG_TOKENS)
    add_route(r, "GET", "/authentication", current_authentication, access.OWN_CREDENTIAL)
    add_route(r, "GET", "/scopes", scopes, access.PROBE)
    add_route(r, "GET", "/user", current_user, access.OWN_ACCOUNT_READ)
    add_route(r, "POST", "/user", sign_up, access.SIGN_UP)
    # the old password is required too, so a stolen token cannot take the account
    add_route(r, "POST", "/user/password", change_password, access.OWN_ACCOUNT_WRITE)
    # before /user/{login}: "orgs" is a reserved login, this is the caller's org list
    add_route(r, "GET", "/user/orgs", current_user_orgs, access.OWN_ACCOUNT_READ)
    add_route(r, "GET", "/user/{login}", get_user, access.PUBLIC)
    add_route(r, "GET", "/users/{login}/orgs", user_orgs, access.PUBLIC)
    add_route(r, "POST", "/organizations", create_organization, access.OWN_ACCOUNT_WRITE)
    add_route(r, "GET", "/groups", my_groups, access.OWN_ACCOUNT_READ)
    add_route(r, "GET", "/groups/{org}", list_groups, access.GROUPS_READ)
    grp = "/group/{org}/{group}"
    add_route(r, "GET", grp, get_group, access.GROUPS_READ)
    add_route(r, "POST", grp, put_group, access.GROUPS_WRITE)
    add_route(r, "GET", grp + "/members", group_members, access.GROUPS_READ)
    add_route(r, "GET", grp + "/members/{login}", is_group_member, access.GROUPS_READ)
    add_route(r, "PUT", grp + "/members/{login}", add_group_member, access.GROUPS_WRITE)
    add_route(r, "DELETE", grp + "/members/{login}", remove_group_member, access.GROUPS_WRITE)
    add_route(r, "GET", grp + "/packages", group_packages, access.GROUPS_READ)
    add_route(r, "PUT", grp + "/packages/{package}", add_group_package, access.GROUPS_WRITE)
    add_route(r, "DELETE", grp + "/packages/{package}", remove_group_package, access.GROUPS_WRITE)


def _auth(request: web.Request):
    return request.config_dict[keys.CLIENTS].auth


def _remote(request: web.Request) -> str:
    # The peer address as aiohttp sees it (the socket's, not a client-supplied header):
    # what auth-svc throttles password guessing by.
    return request.remote or ""


# --- tokens ---------------------------------------------------------------------------

async def authentication_type(request: web.Request) -> web.Response:
    return web.json_response({"authentication_type": "password"})


async def create_authentication(request: web.Request) -> web.Response:
    """Login and `anaconda auth --create`: Basic login:password -> a new token (always new;
    fail-if-exists is ignored, §10.8). `"user": ORG` makes a token of an org its admin runs."""
    allowed = grant(request)  # a login and password (TOKEN_CREATE)
    body = await json_body(request)
    account = (opt(body, "user", str) or allowed.login).strip().lower()
    if account != allowed.login:
        await allowed.require_admin(account)  # an org's token: by one of its admins
    max_age = opt(body, "max-age", int, 0)
    if max_age < 0:
        raise errors.Invalid("'max-age' must not be negative")
    created = await call(_auth(request).CreateToken(auth_pb2.CreateTokenRequest(
        login=account,
        name=opt(body, "note", str, "") or "anaconda-client",
        scopes=str_list(body, "scopes"),
        max_age_s=max_age,
        hostname=opt(body, "hostname", str, ""),
        remote_addr=_remote(request),
    )))
    out = token_json(created.info)
    out.update(token=created.token, user=account)
    return web.json_response(out)


def _token_credential(request: web.Request) -> Credential:
    cred = extract_credential(request)
    if cred is None or cred.kind != "token":
        raise errors.Unauthenticated("this request needs a token (Authorization: token <TOKEN>)")
    return cred


async def delete_current_authentication(request: web.Request) -> web.Response:
    """Logout: revoke the token the request carries; 201 (§4.2)."""
    cred = _token_credential(request)
    resp = await call(_auth(request).RevokeToken(auth_pb2.RevokeTokenRequest(login=grant(request).login, token=cred.secret)))
    request.config_dict[keys.RESOLVER].invalidate(token_hash(cred.secret))
    return web.json_response({"revoked": resp.revoked}, status=201)


async def _revoke_by_name(request: web.Request, account: str) -> web.Response:
    name = request.match_info["name"]
    resp = await call(_auth(request).RevokeToken(auth_pb2.RevokeTokenRequest(login=account, name=name)))
    if resp.revoked == 0:
        raise errors.NotFound(f"no token named {name!r}")
    return web.json_response({"revoked": resp.revoked}, status=201)


async def delete_authentication_by_name(request: web.Request) -> web.Response:
    """`anaconda auth --remove NAME`: every live token of that name; 201."""
    return await _revoke_by_name(request, grant(request).login)


async def delete_org_authentication_by_name(request: web.Request) -> web.Response:
    """`anaconda auth --remove NAME -o ORG`: an org's token, by one of its admins; 201."""
    return await _revoke_by_name(request, grant(request).owner.lower())


async def current_authentication(request: web.Request) -> web.Response:
    principal = grant(request).principal
    assert principal is not None
    return web.json_response({
        "id": principal.token_id or None,
        "application": principal.token_name or None,
        "login": principal.login,
        "scopes": list(principal.scopes),
        "expires": iso_or_none(principal.expires_at_ms),
    })


async def list_authentications(request: web.Request) -> web.Response:
    resp = await call(_auth(request).ListTokens(auth_pb2.ListTokensRequest(login=grant(request).login)))
    return web.json_response([token_json(t) for t in resp.tokens])


async def scopes(request: web.Request) -> web.Response:
    """Public: the client fetches it without its token (§10.20)."""
    resp = await call(_auth(request).ListScopes(auth_pb2.ListScopesRequest()))
    return web.json_response({s.name: s.description for s in resp.scopes})


# --- accounts -------------------------------------------------------------------------

async def current_user(request: web.Request) -> web.Response:
    user = await existing_user(request, grant(request).login)
    return web.json_response(user_json(user, include_email=True))


async def get_user(request: web.Request) -> web.Response:
    user = await existing_user(request, request.match_info["login"])
    return web.json_response(user_json(user))


async def sign_up(request: web.Request) -> web.Response:
    body = await json_body(request)
    for name in ("login", "email", "password"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise errors.Invalid(f"'{name}' is required and must be a non-empty string")
    user = await call(_auth(request).CreateUser(auth_pb2.CreateUserRequest(
        login=body["login"], email=body["email"], password=body["password"], name=opt(body, "name", str, ""),
    )))
    return web.json_response(user_json(user, include_email=True), status=201)


async def change_password(request: web.Request) -> web.Response:
    """POST /user/password {"old_password", "new_password"}: the caller's own password; the
    old one is required even with a token, so a stolen token cannot take the account."""
    principal = grant(request).principal
    assert principal is not None
    if principal.user_type != "user":
        raise errors.Invalid("an organization has no password")
    body = await json_body(request)
    for name in ("old_password", "new_password"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise errors.Invalid(f"'{name}' is required and must be a non-empty string")
    user = await call(_auth(request).ChangePassword(auth_pb2.ChangePasswordRequest(
        login=principal.login, old_password=body["old_password"], new_password=body["new_password"],
        remote_addr=_remote(request),
    )))
    return web.json_response(user_json(user, include_email=True))


# --- organizations --------------------------------------------------------------------

def _org_json(user: auth_pb2.User) -> dict:
    return {"login": user.login, "name": user.name, "description": user.description, "user_type": "org"}


async def _orgs_of(request: web.Request, login: str) -> web.Response:
    resp = await call(_auth(request).ListOrganizations(auth_pb2.ListOrganizationsRequest(login=login)))
    return web.json_response([_org_json(o) for o in resp.orgs])


async def user_orgs(request: web.Request) -> web.Response:
    user = await existing_user(request, request.match_info["login"])
    if user.user_type != "user":
        return web.json_response([])
    return await _orgs_of(request, user.login)


async def current_user_orgs(request: web.Request) -> web.Response:
    return await _orgs_of(request, grant(request).login)


async def create_organization(request: web.Request) -> web.Response:
    """POST /organizations {"login", "name"?, "description"?, "email"?}: 201 with the org;
    the caller becomes a member of its owners group."""
    principal = grant(request).principal
    assert principal is not None
    if principal.user_type != "user":
        raise errors.Forbidden("an organization cannot create organizations")
    body = await json_body(request)
    login = body.get("login")
    if not isinstance(login, str) or not login:
        raise errors.Invalid("'login' (the organization's name) is required and must be a non-empty string")
    org = await call(_auth(request).CreateOrganization(auth_pb2.CreateOrganizationRequest(
        login=login, creator=principal.login, name=opt(body, "name", str, ""),
        description=opt(body, "description", str, ""), email=opt(body, "email", str, ""),
    )))
    return web.json_response(user_json(org), status=201)


# --- groups ---------------------------------------------------------------------------

def _group_json(g: auth_pb2.Group, *, show_packages: bool) -> dict:
    """show_packages: only for the org's admins. A group's package list can name private
    packages a plain member may not read (GET .../packages filters them per caller)."""
    out = {
        "name": g.name,
        "org": g.org,
        "permission": _PERMISSION_NAME.get(g.permission, "read"),
        "members": list(g.members),
        "members_count": len(g.members),
        "created_at": iso_or_none(g.created_at_ms),
    }
    if show_packages:
        out["packages"] = [f"{g.org}/{p}" for p in g.packages]
        out["packages_count"] = len(g.packages)
    return out


async def _is_org_admin(request: web.Request, principal: Principal | None, org: str) -> bool:
    return principal is not None and await policy.permission_on(_auth(request), principal, org) == "admin"


def _group_ref(request: web.Request) -> auth_pb2.GroupRef:
    m = request.match_info
    return auth_pb2.GroupRef(org=m["org"].lower(), name=m["group"].lower())


async def _group(request: web.Request) -> auth_pb2.Group:
    return await not_found_as(_auth(request).GetGroup(_group_ref(request)), GROUP_NOT_FOUND)


async def my_groups(request: web.Request) -> web.Response:
    """GET /groups: the caller's groups across their orgs."""
    principal = grant(request).principal
    orgs = await call(_auth(request).ListOrganizations(auth_pb2.ListOrganizationsRequest(login=principal.login)))
    groups = []
    for org in orgs.orgs:
        resp = await call(_auth(request).ListGroups(auth_pb2.ListGroupsRequest(org=org.login, member=principal.login)))
        admin = await _is_org_admin(request, principal, org.login)
        groups.extend(_group_json(g, show_packages=admin) for g in resp.groups)
    return web.json_response({"groups": groups})


async def list_groups(request: web.Request) -> web.Response:
    """`anaconda groups show ORG`: every group of the org, for its members."""
    org = grant(request).owner
    resp = await not_found_as(_auth(request).ListGroups(auth_pb2.ListGroupsRequest(org=org)), GROUP_NOT_FOUND)
    admin = grant(request).permission is Permission.ADMIN
    return web.json_response({"groups": [_group_json(g, show_packages=admin) for g in resp.groups]})


async def get_group(request: web.Request) -> web.Response:
    admin = grant(request).permission is Permission.ADMIN
    return web.json_response(_group_json(await _group(request), show_packages=admin))


async def put_group(request: web.Request) -> web.Response:
    """`anaconda groups add ORG/GROUP --perms P`: create it, or change its permission; 204."""
    body = await json_body(request)
    perms = opt(body, "perms", str, "read")
    if perms not in _PERMISSION_PB:
        raise errors.Invalid(f"invalid permission {perms!r}: use one of read, write, admin")
    await call(_auth(request).PutGroup(auth_pb2.PutGroupRequest(ref=_group_ref(request), permission=_PERMISSION_PB[perms])))
    return web.Response(status=204)


async def group_members(request: web.Request) -> web.Response:
    group = await _group(request)
    out = []
    for login in group.members:
        user = await call(_auth(request).GetUser(auth_pb2.GetUserRequest(login=login)))
        out.append({"login": user.login, "name": user.name})
    return web.json_response(out)


async def is_group_member(request: web.Request) -> web.Response:
    """204 = a member, 404 = not (the API's membership probe)."""
    group = await _group(request)
    if request.match_info["login"].lower() not in group.members:
        raise errors.NotFound("not a member of this group")
    return web.Response(status=204)


async def _change_member(request: web.Request, add: bool) -> web.Response:
    req = auth_pb2.GroupMemberRequest(ref=_group_ref(request), login=request.match_info["login"])
    stub = _auth(request)
    await call(stub.AddGroupMember(req) if add else stub.RemoveGroupMember(req))
    return web.Response(status=204)


async def add_group_member(request: web.Request) -> web.Response:
    return await _change_member(request, True)


async def remove_group_member(request: web.Request) -> web.Response:
    return await _change_member(request, False)


async def group_packages(request: web.Request) -> web.Response:
    """The group's packages as [{full_name, summary}], leaving out any the caller may not read."""
    principal = grant(request).principal
    group = await _group(request)
    registry = request.config_dict[keys.CLIENTS].registry
    out = []
    for name in group.packages:
        try:
            package = await call(registry.GetPackage(registry_pb2.PackageRef(owner=group.org, name=name)))
        except errors.NotFound:
            continue
        if not package.public and await policy.permission_on(_auth(request), principal, group.org, name) == "none":
            continue
        out.append({"full_name": f"{group.org}/{name}", "summary": package.summary})
    return web.json_response(out)


async def _change_package(request: web.Request, add: bool) -> web.Response:
    ref = _group_ref(request)
    name = request.match_info["package"]
    if add:
        registry = request.config_dict[keys.CLIENTS].registry
        await not_found_as(registry.GetPackage(registry_pb2.PackageRef(owner=ref.org, name=name)), "Package not found")
    req = auth_pb2.GroupPackageRequest(ref=ref, package=name)
    stub = _auth(request)
    await call(stub.AddGroupPackage(req) if add else stub.RemoveGroupPackage(req))
    return web.Response(status=204)


async def add_group_package(request: web.Request) -> web.Response:
    return await _change_package(request, True)


async def remove_group_package(request: web.Request) -> web.Response:
    return await _change_package(request, False)
