"""The envs protocol: hosted conda environment files.

Mounted at /envs and on envs.<base_domain> (routing.py):
  GET /<owner>          the owner's environments the caller may see (HTML; JSON on Accept)
  GET /<owner>/<name>   the newest environment.yml of that package, as YAML

`conda env create owner/name` fetched through the API (GET /package, then /download of the
newest `env` file); these pages are the human way to the same files.
"""

from __future__ import annotations

import html

from aiohttp import web
from pkgcloud_protos.v1 import auth_pb2, registry_pb2
from pkgcloud_servicekit import errors

from . import access, keys, web_catalog
from .access import grant
from .clients import call
from .downloads import send_blob
from .routing import add_route, protocol_base_url

NOT_FOUND = "Environment not found"


def create_app() -> web.Application:
    app = web.Application()
    add_route(app.router, "GET", "/{owner}", list_envs, access.ENV_READ)
    add_route(app.router, "GET", "/{owner}/{package}", download_env, access.ENV_READ)
    return app


def newest_env_file(pkg: registry_pb2.Package):
    """The env file `conda env create owner/name` picked: the highest version (versions are
    upload timestamps), the newest upload among equals; None when there is none."""
    files = [f for f in pkg.files if f.type == "env"]
    return max(files, key=lambda f: (f.version, f.upload_time_ms)) if files else None


async def list_envs(request: web.Request) -> web.Response:
    if web_catalog.wants_html(request):  # a browser: the owner's environments tab
        return web_catalog.to_owner_page(request, tab="environments")
    owner = request.match_info["owner"]
    clients = request.config_dict[keys.CLIENTS]
    try:
        await call(clients.auth.GetUser(auth_pb2.GetUserRequest(login=owner)))
    except (errors.NotFound, errors.Invalid):
        raise errors.NotFound("User not found") from None
    resp = await call(clients.registry.ListPackages(registry_pb2.ListPackagesRequest(owner=owner)))
    readable = grant(request).access
    base = protocol_base_url(request, "envs")
    rows = []
    for p in resp.packages:
        if "env" not in p.package_types or not readable.may_read(p.name, p.public):
            continue
        newest = newest_env_file(p)
        if newest is None:
            continue
        rows.append({
            "name": p.name, "full_name": f"{owner}/{p.name}", "summary": p.summary, "public": p.public,
            "latest_version": newest.version, "basename": newest.basename,
            "url": f"{base}/{owner}/{p.name}",
            "download_url": f"{protocol_base_url(request, 'api')}/download/{owner}/{p.name}/{newest.version}/{newest.basename}",
        })
    rows.sort(key=lambda r: r["name"])
    accept = request.headers.get("Accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return web.json_response(rows)
    items = "".join(
        f'<tr><td><a href="{html.escape(r["url"])}">{html.escape(r["full_name"])}</a></td><td>{html.escape(r["summary"])}</td>'
        f'<td>{html.escape(r["latest_version"])}</td><td>{"public" if r["public"] else "private"}</td>'
        f'<td><a href="{html.escape(r["url"])}" download>{html.escape(r["basename"])}</a></td></tr>'
        for r in rows
    ) or '<tr><td colspan="5">No environments.</td></tr>'
    body = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Environments of {html.escape(owner)}</title></head>'
        f"<body><h1>Environments of {html.escape(owner)}</h1><table><thead><tr><th>Environment</th><th>Summary</th>"
        f"<th>Latest version</th><th>Access</th><th>File</th></tr></thead><tbody>{items}</tbody></table>"
        f"<p>Create one with <code>conda env create {html.escape(owner)}/&lt;name&gt;</code>.</p></body></html>\n"
    )
    return web.Response(text=body, content_type="text/html", charset="utf-8", headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'",
        "X-Content-Type-Options": "nosniff",
    })


async def download_env(request: web.Request) -> web.StreamResponse:
    owner, name = request.match_info["owner"], request.match_info["package"]
    clients = request.config_dict[keys.CLIENTS]
    try:
        pkg = await call(clients.registry.GetPackage(registry_pb2.PackageRef(owner=owner, name=name)))
    except (errors.NotFound, errors.Invalid):
        raise errors.NotFound(NOT_FOUND) from None
    grant(request).require_readable(pkg.name, pkg.public)
    newest = newest_env_file(pkg)
    if newest is None:
        raise errors.NotFound(NOT_FOUND)
    return await send_blob(
        request, request.config_dict[keys.BLOBS], blob_key=newest.blob_key, filename=newest.basename,
        sha256=newest.sha256, content_type="text/yaml; charset=utf-8", not_found=NOT_FOUND, allow_redirect=False,
    )
