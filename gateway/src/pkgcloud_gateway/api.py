"""The anaconda.org API as anaconda-client 1.16.0 uses it (reference/anaconda-client-api.md).

Handlers translate HTTP <-> protobuf and delegate: who the caller is and whether they may
is decided before the handler runs, by the rule each route is registered with (access.py);
the data comes from auth-svc and
registry-svc. Success statuses are exact (200 vs 201 matters to the client, §10.2).
"""

from __future__ import annotations

import json
import re

from aiohttp import web
from pkgcloud_protos.v1 import common_pb2, registry_pb2
from pkgcloud_servicekit import errors

from . import access, api_accounts, api_private, audit_trail, conda_labels, keys
from .access import grant
from .clients import call
from .downloads import open_download, send_blob
from .jsonapi import existing_user, json_body, not_found_as, opt, str_list
from .representations import file_json, package_json, release_json
from .routing import add_route, protocol_base_url, web_base_url
from .upload_form import form_upload

_SHA256 = re.compile(r"[0-9a-f]{64}")


def create_app() -> web.Application:
    app = web.Application()
    r = app.router
    add_route(r, "GET", "", server_check, access.PROBE)
    add_route(r, "GET", "/", server_check, access.PROBE)
    api_accounts.add_routes(r)  # accounts, tokens, organizations, groups
    audit_trail.add_routes(r)  # an owner's audit trail (issue 11)
    api_private.add_routes(r)  # private packages: authorized users, search (issue 5)
    add_route(r, "GET", "/packages/{owner}", list_packages, access.API_OWNER_READ)
    pkg = "/package/{owner}/{package}"
    add_route(r, "GET", pkg, get_package, access.API_PACKAGE_READ)
    add_route(r, "POST", pkg, create_package, access.PACKAGE_WRITE)
    add_route(r, "PATCH", pkg, update_package, access.PACKAGE_SETTINGS)
    add_route(r, "DELETE", pkg, delete_package, access.PACKAGE_SETTINGS)
    rel = "/release/{owner}/{package}/{version}"
    add_route(r, "GET", rel, get_release, access.API_RELEASE_READ)
    add_route(r, "POST", rel, create_release, access.PACKAGE_WRITE)
    add_route(r, "PATCH", rel, update_release, access.PACKAGE_WRITE)
    add_route(r, "DELETE", rel, delete_release, access.PACKAGE_SETTINGS)
    dist = "/{owner}/{package}/{version}/{basename:.+}"
    add_route(r, "GET", "/dist" + dist, get_dist, access.API_DIST_READ)
    add_route(r, "DELETE", "/dist" + dist, delete_dist, access.PACKAGE_SETTINGS)
    add_route(r, "POST", "/stage" + dist, stage, access.PACKAGE_WRITE)
    add_route(r, "POST", "/commit" + dist, commit, access.PACKAGE_WRITE)
    add_route(r, "GET", "/download" + dist, download, access.API_DOWNLOAD)
    add_route(r, "POST", "/upload-form", form_upload, access.UPLOAD_KEY)
    conda_labels.add_routes(r)  # conda labels (issue 3)
    return app


# --- helpers -------------------------------------------------------------------------

def _registry(request: web.Request):
    return request.config_dict[keys.CLIENTS].registry


def _auth(request: web.Request):
    return request.config_dict[keys.CLIENTS].auth


def _api_base(request: web.Request) -> str:
    return protocol_base_url(request, "api")


def _pkg(request: web.Request) -> registry_pb2.PackageRef:
    m = request.match_info
    return registry_pb2.PackageRef(owner=m["owner"], name=m["package"])


def _rel(request: web.Request) -> registry_pb2.ReleaseRef:
    m = request.match_info
    return registry_pb2.ReleaseRef(owner=m["owner"], package=m["package"], version=m["version"])


def _file(request: web.Request) -> common_pb2.FileRef:
    m = request.match_info
    return common_pb2.FileRef(owner=m["owner"], package=m["package"], version=m["version"], basename=m["basename"])


# --- server and accounts -------------------------------------------------------------

async def server_check(request: web.Request) -> web.Response:
    """HEAD {url}: the client's only probe; 200 whatever credential came along (§10.1)."""
    return web.json_response({"ok": True, "service": "pkgcloud"})


# --- packages ------------------------------------------------------------------------

async def list_packages(request: web.Request) -> web.Response:
    owner = request.match_info["owner"]
    await existing_user(request, owner)
    resp = await call(_registry(request).ListPackages(registry_pb2.ListPackagesRequest(owner=owner)))
    base = _api_base(request)
    readable = grant(request).access
    visible = [p for p in resp.packages if readable.may_read(p.name, p.public)]
    return web.json_response([package_json(p, base) for p in visible])


async def get_package(request: web.Request) -> web.Response:
    return web.json_response(package_json(grant(request).package, _api_base(request)))


async def create_package(request: web.Request) -> web.Response:
    body = await json_body(request)
    attrs = opt(body, "public_attrs", dict, {})
    summary = attrs.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise errors.Invalid("'public_attrs.summary' must be a string")
    types = attrs.get("package_types") or []
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise errors.Invalid("'public_attrs.package_types' must be an array of strings")
    ref = _pkg(request)
    package = await call(_registry(request).CreatePackage(registry_pb2.CreatePackageRequest(
        owner=ref.owner,
        name=ref.name,
        public=opt(body, "public", bool, True),
        summary=summary or "",
        package_types=types,
        public_attrs_json=json.dumps(attrs),
    )))
    return web.json_response(package_json(package, _api_base(request)))


async def update_package(request: web.Request) -> web.Response:
    body = await json_body(request)
    attrs = opt(body, "public_attrs", dict, {})
    ref = _pkg(request)
    public = opt(body, "public", bool)
    if public is not None:  # a privacy change (the web UI; anaconda.org's API takes it here too)
        await api_private.set_public(request, ref.owner, ref.name, public)
    package = await not_found_as(_registry(request).UpdatePackage(registry_pb2.UpdatePackageRequest(
        owner=ref.owner, name=ref.name, public_attrs_json=json.dumps(attrs),
    )), "Package not found")
    return web.json_response(package_json(package, _api_base(request)))


async def delete_package(request: web.Request) -> web.Response:
    resp = await not_found_as(_registry(request).DeletePackage(_pkg(request)), "Package not found")
    return web.json_response({"files_removed": resp.files_removed}, status=201)


# --- releases ------------------------------------------------------------------------

async def get_release(request: web.Request) -> web.Response:
    ref = _rel(request)
    release = await not_found_as(_registry(request).GetRelease(ref), "Release not found")
    return web.json_response(release_json(release, _api_base(request)))


async def create_release(request: web.Request) -> web.Response:
    body = await json_body(request)
    release = await not_found_as(
        _registry(request).CreateRelease(registry_pb2.CreateReleaseRequest(ref=_rel(request), attrs_json=json.dumps(body))),
        "Package not found",
    )
    return web.json_response(release_json(release, _api_base(request)))


async def update_release(request: web.Request) -> web.Response:
    body = await json_body(request)
    attrs = opt(body, "public_attrs", dict, {})
    release = await not_found_as(
        _registry(request).UpdateRelease(registry_pb2.UpdateReleaseRequest(ref=_rel(request), attrs_json=json.dumps(attrs))),
        "Release not found",
    )
    return web.json_response(release_json(release, _api_base(request)))


async def delete_release(request: web.Request) -> web.Response:
    resp = await not_found_as(_registry(request).DeleteRelease(_rel(request)), "Release not found")
    return web.json_response({"files_removed": resp.files_removed}, status=201)


# --- distributions and the staged upload ------------------------------------------------

async def get_dist(request: web.Request) -> web.Response:
    ref = _file(request)
    record = await not_found_as(_registry(request).GetFile(ref), "Distribution not found")
    return web.json_response(file_json(record, _api_base(request)))


async def delete_dist(request: web.Request) -> web.Response:
    record = await not_found_as(_registry(request).DeleteFile(_file(request)), "Distribution not found")
    return web.json_response(file_json(record, _api_base(request)))


async def stage(request: web.Request) -> web.Response:
    """Step 1 of the upload (§5): the registry opens a staged upload and says where to POST."""
    body = await json_body(request)
    # optional: anaconda-client 1.2.2 sends none (the registry then computes it at commit)
    sha256 = body.get("sha256") or ""
    if not isinstance(sha256, str) or sha256 and not _SHA256.fullmatch(sha256.lower()):
        raise errors.Invalid("'sha256' must be the hex sha256 of the file (64 hex digits)")
    attrs = opt(body, "attrs", dict, {})
    dependencies = body.get("dependencies")
    resp = await call(_registry(request).StageUpload(registry_pb2.StageUploadRequest(
        ref=_file(request),
        distribution_type=opt(body, "distribution_type", str, ""),
        description=opt(body, "description", str, ""),
        attrs_json=json.dumps(attrs),
        dependencies_json="" if dependencies is None else json.dumps(dependencies),
        labels=str_list(body, "channels"),
        sha256=sha256.lower(),
        form_post_url=f"{_api_base(request)}/upload-form",
    )))
    return web.json_response({
        "post_url": resp.post_url,
        "form_data": {f.name: f.value for f in resp.form_data},  # dicts keep order: the client sends them so
        "dist_id": resp.dist_id,
    })


async def commit(request: web.Request) -> web.Response:
    """Step 3 of the upload: the registry verifies the stored bytes and records the file."""
    body = await json_body(request)
    dist_id = body.get("dist_id")
    if not isinstance(dist_id, str) or not dist_id:
        raise errors.Invalid("'dist_id' (from the stage answer) is required")
    record = await call(_registry(request).CommitUpload(registry_pb2.CommitUploadRequest(ref=_file(request), dist_id=dist_id)))
    out = file_json(record, _api_base(request))
    out.update(url=f"{web_base_url(request)}/{record.owner}/{record.package}", basename=record.basename)
    return web.json_response(out)


async def download(request: web.Request) -> web.StreamResponse:
    # the rule resolved what the caller reads of the owner (API_DOWNLOAD); the registry applies it
    record = await not_found_as(open_download(request, _file(request), grant(request).access), "File not found")
    return await send_blob(
        request, request.config_dict[keys.BLOBS],
        blob_key=record.blob_key, filename=record.basename, sha256=record.sha256, not_found="File not found",
        public=record.package_public,
    )
