"""Private packages through the anaconda.org API (issue 5): the privacy change, the
authorized users of a package (`anaconda package --add-collaborator/--list-collaborators`,
reference §4.9) and `anaconda search` (§4.11), whose results pass the same policy as every
other read."""

from __future__ import annotations

from aiohttp import web
from pkgcloud_protos.v1 import registry_pb2
from pkgcloud_servicekit import errors

from . import access, keys, policy
from .clients import call
from .jsonapi import existing_user, not_found_as
from .representations import package_json
from .routing import add_route, protocol_base_url

SEARCH_TYPES = ("conda", "pypi", "file", "ipynb", "env")


def add_routes(r: web.UrlDispatcher) -> None:
    base = "/packages/{owner}/{package}/collaborators"
    add_route(r, "GET", base, list_collaborators, access.COLLABORATORS_READ)
    add_route(r, "PUT", base + "/{login}", add_collaborator, access.COLLABORATORS_WRITE)
    add_route(r, "DELETE", base + "/{login}", remove_collaborator, access.COLLABORATORS_WRITE)
    # results pass the read policy per owner, like a listing
    add_route(r, "GET", "/search", search, access.PUBLIC)


def _registry(request: web.Request):
    return request.config_dict[keys.CLIENTS].registry


def _forget(request: web.Request, login: str, owner: str) -> None:
    cache = request.config_dict.get(policy.ACCESS_CACHE)
    if cache is not None:
        cache.forget(login=login.lower(), owner=owner.lower())


async def set_public(request: web.Request, owner: str, name: str, public: bool) -> registry_pb2.Package:
    """For a handler whose rule admitted a writer of owner/name."""
    return await not_found_as(
        _registry(request).SetPackagePublic(registry_pb2.SetPackagePublicRequest(owner=owner, name=name, public=public)),
        "Package not found",
    )


def _ref(request: web.Request) -> registry_pb2.PackageRef:
    return registry_pb2.PackageRef(owner=request.match_info["owner"], name=request.match_info["package"])


def _logins(resp: registry_pb2.CollaboratorList) -> list[dict[str, str]]:
    return [{"login": login} for login in resp.logins]


async def list_collaborators(request: web.Request) -> web.Response:
    resp = await not_found_as(_registry(request).ListCollaborators(_ref(request)), "Package not found")
    return web.json_response(_logins(resp))


async def add_collaborator(request: web.Request) -> web.Response:
    user = await existing_user(request, request.match_info["login"])
    if user.user_type == "org":
        raise errors.Invalid(f"{user.login} is an organization: add its members (or a group of it) instead")
    ref = _ref(request)
    resp = await not_found_as(
        _registry(request).AddCollaborator(registry_pb2.CollaboratorRequest(package=ref, login=user.login)), "Package not found",
    )
    _forget(request, user.login, ref.owner)
    return web.json_response(_logins(resp), status=201)


async def remove_collaborator(request: web.Request) -> web.Response:
    ref = _ref(request)
    login = request.match_info["login"]
    resp = await not_found_as(
        _registry(request).RemoveCollaborator(registry_pb2.CollaboratorRequest(package=ref, login=login)), "Package not found",
    )
    _forget(request, login, ref.owner)
    return web.json_response(_logins(resp), status=201)


async def search(request: web.Request) -> web.Response:
    """GET /search?name=Q[&type=T][&platform=P]: packages of any owner the caller may read."""
    q = request.query
    name, kind, platform = q.get("name", ""), q.get("type", ""), q.get("platform", "")
    if kind and kind not in SEARCH_TYPES:
        raise errors.Invalid(f"unknown package type {kind!r} (expected one of {', '.join(SEARCH_TYPES)})")
    resp = await call(_registry(request).SearchPackages(
        registry_pb2.SearchPackagesRequest(name=name, package_type=kind, platform=platform),
    ))
    base = protocol_base_url(request, "api")
    readable: dict[str, policy.ReadAccess] = {}
    out = []
    for p in resp.packages:
        if not p.public:
            if p.owner not in readable:
                readable[p.owner] = await policy.read_access(request, p.owner)
            if not readable[p.owner].may_read(p.name, p.public):
                continue
        out.append(package_json(p, base))
    return web.json_response(out)


__all__ = ["add_routes", "set_public"]
