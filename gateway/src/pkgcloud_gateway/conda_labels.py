"""The anaconda.org label API as anaconda-client 1.16.0 uses it (reference §4.7, §4.13,
§4.14): `anaconda label --list/--show/--copy/--lock/--unlock/--remove`, `anaconda copy` and
`anaconda move`. Labels are the owner's as a whole: the owner account and an org's admins
see and change them (access.LABELS_READ, LABELS_WRITE)."""

from __future__ import annotations

from aiohttp import web
from pkgcloud_protos.v1 import registry_pb2
from pkgcloud_servicekit import errors

from . import access, keys
from .access import grant
from .clients import call
from .jsonapi import json_body, opt
from .representations import file_json
from .routing import add_route, protocol_base_url


def add_routes(r: web.UrlDispatcher) -> None:
    add_route(r, "GET", "/channels/{owner}", list_labels, access.LABELS_READ)
    add_route(r, "GET", "/channels/{owner}/{label}", show_label, access.LABELS_READ)
    add_route(r, "POST", "/channels/{owner}/{label}", add_label, access.LABELS_WRITE)
    add_route(r, "DELETE", "/channels/{owner}/{label}", remove_label, access.LABELS_WRITE)
    add_route(r, "POST", "/channels/{owner}/{label}/copy/{to}", copy_label, access.LABELS_WRITE)
    add_route(r, "POST", "/channels/{owner}/{label}/lock", lock_label, access.LABELS_WRITE)
    add_route(r, "DELETE", "/channels/{owner}/{label}/lock", unlock_label, access.LABELS_WRITE)
    for method in ("POST", "PUT", "PATCH"):
        # the destination (another owner, from the body) is checked by the same rule before the copy
        add_route(r, method, "/copy/package/{owner}/{package}/{version}/{basename:.*}", copy_package, access.PACKAGE_WRITE)


def _registry(request: web.Request):
    return request.config_dict[keys.CLIENTS].registry


def _owner(request: web.Request) -> str:
    return grant(request).owner


async def list_labels(request: web.Request) -> web.Response:
    owner = _owner(request)
    resp = await call(_registry(request).ListLabels(registry_pb2.LabelOwnerRef(owner=owner)))
    return web.json_response({i.name: {"is_locked": i.is_locked, "num_files": i.file_count} for i in resp.labels})


async def show_label(request: web.Request) -> web.Response:
    owner = _owner(request)
    resp = await call(_registry(request).GetLabel(registry_pb2.LabelRef(owner=owner, label=request.match_info["label"])))
    base = protocol_base_url(request, "api")
    return web.json_response({"name": resp.label.name, "is_locked": resp.label.is_locked, "num_files": resp.label.file_count,
                              "files": [file_json(f, base) for f in resp.files]})


async def copy_label(request: web.Request) -> web.Response:
    owner = _owner(request)
    m = request.match_info
    resp = await call(_registry(request).CopyLabel(registry_pb2.CopyLabelRequest(owner=owner, from_label=m["label"], to_label=m["to"])))
    return web.json_response([{"basename": f.basename} for f in resp.files], status=201)


async def _set_lock(request: web.Request, locked: bool) -> web.Response:
    owner = _owner(request)
    info = await call(_registry(request).SetLabelLock(registry_pb2.SetLabelLockRequest(owner=owner, label=request.match_info["label"], locked=locked)))
    return web.json_response({"name": info.name, "is_locked": info.is_locked}, status=201)


async def lock_label(request: web.Request) -> web.Response:
    return await _set_lock(request, True)


async def unlock_label(request: web.Request) -> web.Response:
    return await _set_lock(request, False)


async def _spec(request: web.Request, owner: str) -> registry_pb2.LabelSpec:
    body = await json_body(request)
    return registry_pb2.LabelSpec(
        owner=owner, label=request.match_info["label"], package=opt(body, "package", str, ""),
        version=opt(body, "version", str, ""), basename=opt(body, "basename", str, ""),
    )


async def remove_label(request: web.Request) -> web.Response:
    owner = _owner(request)
    resp = await call(_registry(request).RemoveLabel(await _spec(request, owner)))
    return web.json_response([{"basename": f.basename} for f in resp.files], status=201)


async def add_label(request: web.Request) -> web.Response:
    owner = _owner(request)
    resp = await call(_registry(request).AddLabel(await _spec(request, owner)))
    return web.json_response([{"basename": f.basename} for f in resp.files], status=201)


async def copy_package(request: web.Request) -> web.Response:
    owner = _owner(request)
    body = await json_body(request)
    to_owner = opt(body, "to_owner", str, "") or ""
    m = request.match_info
    if to_owner and to_owner != owner:
        # write access to the destination too: that account, or (auth-svc knows) an owner of
        # that org or a group with write on the package there
        await grant(request).require_write(to_owner, m["package"])
    mode = {"POST": "", "PUT": "replace", "PATCH": "update"}[request.method]
    resp = await call(_registry(request).CopyFiles(registry_pb2.CopyFilesRequest(
        owner=owner, package=m["package"], version=m["version"], basename=m["basename"],
        from_label=opt(body, "from_channel", str, "main"), to_label=opt(body, "to_channel", str, "main"),
        to_owner=to_owner, mode=mode,
    )))
    if not resp.files:
        raise errors.NotFound("no file matched")
    return web.json_response([{"basename": f.basename} for f in resp.files])
