"""The notebooks protocol: hosted notebooks as sanitized, script-free HTML pages.

Mounted at /notebooks and on notebooks.<base_domain> (routing.py):
  GET /<owner>/<name>            the newest version's page
  GET /<owner>/<name>/<version>  one version's page (every version is kept)
  GET /_images/<sha256>.<ext>    an image of a rendered page (content addressed)

render-svc renders (or has rendered, on the upload event) the page; this module decides who may
read it and serves it with a Content-Security-Policy under which nothing of the notebook can
run: no script source at all, a `sandbox` that gives the page an opaque origin even when opened
directly, images only from the image route, the page's one stylesheet by hash.

Cached views stay cheap: a public notebook's resolution (package -> rendered page) is kept for
a few seconds and the finished page in the document cache (a form of the rendered page per
image base), so a cached view makes no RPC.
Private notebooks are checked on every request.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from pkgcloud_protos.v1 import registry_pb2, render_pb2
from pkgcloud_servicekit import errors
from pkgcloud_servicekit.blobstore import BlobNotFound
from pkgcloud_servicekit.published import rendered_image_key

from . import access, keys
from .access import grant
from .clients import call
from .conditional import document_response
from .credentials import extract_credential
from .document_cache import CachePolicy, Document
from .routing import add_route, protocol_base_url, web_base_url
from .web_session import session_principal

NOT_FOUND = "Notebook not found"
IMAGE_MARKER = b'src="__images__/'   # what render-svc writes where the image route goes
_IMAGE = re.compile(r"^[0-9a-f]{64}\.(png|jpg|gif|webp|svg)$")
_IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp", "svg": "image/svg+xml"}
PUBLIC_RESOLUTION_TTL_S = 2.0
_FAILED_STATUS = {"invalid": 422, "size": 413, "time": 503}


@dataclass(frozen=True)
class Resolved:
    html_key: str
    expires: float
    #: the access epoch before the lookup: a package made private or removed meanwhile
    #: (access.Rule.changes_access) ends the entry at once, in every gateway process
    epoch: bytes = b""


#: a public notebook's resolution: (owner, package, version) -> its rendered page
RESOLVED = web.AppKey("notebook_resolutions", dict)
#: a rendered page is named by the notebook's content and the renderer's version: it never
#: changes, so it is never read again while kept (its served form is made per image base)
RENDERED = CachePolicy(ttl_s=math.inf, untagged_ttl_s=math.inf, immutable=True, hash_unframed=False)


def create_app() -> web.Application:
    app = web.Application()
    app[RESOLVED] = {}
    r = app.router
    add_route(r, "GET", "/_images/{image}", image, access.PROBE)
    add_route(r, "GET", "/{owner}/{package}", page, access.NOTEBOOK_READ, wrap=_with_session)
    add_route(r, "GET", "/{owner}/{package}/{version}", page, access.NOTEBOOK_READ, wrap=_with_session)
    return app


def style_src(page: bytes) -> str:
    """The CSP source allowing only the page's own stylesheet: render-svc writes exactly one
    <style> in the head and its cleaner removes every style of the notebook."""
    start = page.find(b"<style>")
    end = page.find(b"</style>", start)
    if start < 0 or end < 0:
        return "'none'"
    digest = hashlib.sha256(page[start + len(b"<style>"):end]).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_csp(images_base: str, web_origin: str, styles: str = "'none'") -> str:
    return (
        "default-src 'none'; "
        f"img-src {_origin(images_base)}; "
        f"style-src {styles}; "
        "script-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'; "
        f"frame-ancestors {web_origin}; "
        "sandbox"
    )


def _security_headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Resource-Policy": "same-site",
    }


async def _resolve(request: web.Request, owner: str, package: str, version: str) -> tuple[str, bool]:
    """(html key, public) of the notebook's page; NotFound for what the caller may not see, a
    failed render as the error the reader gets."""
    clients = request.config_dict[keys.CLIENTS]
    try:
        pkg = await call(clients.registry.GetPackage(registry_pb2.PackageRef(owner=owner, name=package)))
    except (errors.NotFound, errors.Invalid):
        raise errors.NotFound(NOT_FOUND) from None
    grant(request).require_readable(pkg.name, pkg.public)
    files = [f for f in pkg.files if f.type == "ipynb" and (not version or f.version == version)]
    if not files:
        raise errors.NotFound(NOT_FOUND)
    newest = max(files, key=lambda f: (f.upload_time_ms, f.version))
    result = await call(clients.render.RenderNotebook(render_pb2.RenderNotebookRequest(sha256=newest.sha256, blob_key=newest.blob_key)))
    if result.status != "ok":
        raise RenderRefused(result.error, result.limit)
    return result.html_key, pkg.public


def _with_session(handler):
    """The web UI's iframe: a read-only GET on the UI's own origin may use the session (the
    page runs no script and is sandboxed); no write route ever reads the cookie. Resolved
    before the access rule, which then sees the session's user like any caller."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        if extract_credential(request) is None:
            await session_principal(request)
        return await handler(request)

    return wrapped


class RenderRefused(Exception):
    def __init__(self, message: str, limit: str):
        super().__init__(message)
        self.limit = limit


def _wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _failure(request: web.Request, e: RenderRefused, csp: str) -> web.Response:
    status = _FAILED_STATUS.get(e.limit, 422)
    headers = _security_headers(csp)
    if e.limit == "time":
        headers["Retry-After"] = "30"
    if _wants_json(request):
        return web.json_response({"error": f"this notebook cannot be shown: {e}", "limit": e.limit}, status=status, headers=headers)
    body = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Notebook not shown</title></head>'
        f"<body><h1>This notebook cannot be shown</h1><p>{html.escape(str(e))}</p>"
        f"<p>Limit: {html.escape(e.limit or 'none')}. The file itself can still be downloaded.</p></body></html>\n"
    )
    return web.Response(status=status, text=body, content_type="text/html", charset="utf-8", headers=headers)


async def page(request: web.Request) -> web.StreamResponse:
    owner, package = request.match_info["owner"], request.match_info["package"]
    version = request.match_info.get("version", "")
    resolutions = request.app[RESOLVED]
    images_base = protocol_base_url(request, "notebooks") + "/_images/"
    csp_key = (images_base, web_base_url(request))
    now = time.monotonic()
    rkey = (owner, package, version)
    resolved = resolutions.get(rkey)
    public = True
    access_epoch = request.config_dict.get(keys.ACCESS_EPOCH)
    epoch = access_epoch.current() if access_epoch is not None else b""
    if resolved is None or resolved.expires < now or resolved.epoch != epoch:
        try:
            html_key, public = await _resolve(request, owner, package, version)
        except RenderRefused as e:
            return _failure(request, e, page_csp(*csp_key))
        if public:
            resolutions[rkey] = Resolved(html_key, now + PUBLIC_RESOLUTION_TTL_S, epoch)
            if len(resolutions) > 10000:
                resolutions.clear()
    else:
        html_key = resolved.html_key
    documents = request.config_dict[keys.DOCUMENTS]
    rendered = await documents.get(request.config_dict[keys.BLOBS], html_key, RENDERED)
    if rendered is None:
        resolutions.pop(rkey, None)
        raise errors.NotFound(NOT_FOUND)

    async def served(doc: Document) -> Document:
        body = doc.body.replace(IMAGE_MARKER, b'src="' + images_base.encode())
        csp = page_csp(*csp_key, style_src(body))
        return Document(body, '"' + hashlib.sha256(body).hexdigest()[:40] + '"', headers={"Content-Security-Policy": csp})

    built = await documents.form(html_key, rendered, csp_key, served)
    headers = _security_headers(built.headers["Content-Security-Policy"])
    headers["ETag"] = built.etag
    headers["Cache-Control"] = "public, max-age=60" if public else "private, no-cache"
    if not public:
        headers["Vary"] = "Authorization, Cookie"
    headers["Content-Type"] = "text/html; charset=utf-8"
    return document_response(request, built.body, headers)


async def image(request: web.Request) -> web.StreamResponse:
    name = request.match_info["image"]
    if not _IMAGE.match(name):
        raise errors.NotFound("Image not found")
    try:
        data = await request.config_dict[keys.BLOBS].read_bytes(rendered_image_key(name))
    except BlobNotFound:
        raise errors.NotFound("Image not found") from None
    headers = _security_headers("default-src 'none'; style-src 'unsafe-inline'; sandbox")
    headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return web.Response(body=data, content_type=_IMAGE_TYPES[name.rsplit(".", 1)[1]], headers=headers)
