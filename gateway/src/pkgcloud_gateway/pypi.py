"""The pypi protocol: per-owner PyPI simple indexes (pip) and the legacy upload API (twine).

Mounted at /pypi and on pypi.<base_domain> (routing.py); every route also exists behind
/t/<token>/. Simple pages are rendered by index-svc and stored with their ETag
(pkgcloud_servicekit.published); serving one is a blob read (briefly cached in memory) with no hashing
and no database access. File links are relative (`../../files/<package>/<version>/<file>`)
so downloads stay under the same host, owner, label and token.

twine prints only the HTTP reason phrase of a failed upload, so every upload error is a
one-line latin-1 reason phrase (and the same text as the body); an upload is never
redirected, and a byte-identical re-upload answers 200.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import re

from aiohttp import web
from pkgcloud_protos.v1 import common_pb2, registry_pb2
from pkgcloud_servicekit import errors
from pkgcloud_servicekit.blobstore import BlobTooLarge, sidecar_key
from pkgcloud_servicekit.indexes import IndexView, normalize_project
from pkgcloud_servicekit.published import pypi_page_key

from . import access, keys, web_catalog
from .access import grant
from .clients import call
from .conditional import document_response, not_modified, not_modified_response
from .document_cache import CachePolicy, Document
from .downloads import open_download, send_blob
from .index_views import pypi_list_page
from .routing import add_route

#: how long a page read from the blob store is reused (index updates are asynchronous anyway)
PAGE_CACHE_TTL_S = 1.0
CHUNK = 256 * 1024
MAX_FIELDS_BYTES = 4 * 1024 * 1024

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
_ACCEPTABLE = {
    JSON_TYPE: ("json", JSON_TYPE, 3),
    "application/vnd.pypi.simple.latest+json": ("json", JSON_TYPE, 3),
    HTML_TYPE: ("html", HTML_TYPE, 2),
    "application/vnd.pypi.simple.latest+html": ("html", HTML_TYPE, 2),
    "text/html": ("html", "text/html", 1),
}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_DIST_SUFFIXES = {".whl": "bdist_wheel", ".tar.gz": "sdist", ".zip": "sdist"}


normalize = normalize_project  # PEP 503 (servicekit.indexes: index-svc names pages the same way)


# --- content negotiation ----------------------------------------------------------------


# Clients send a handful of distinct Accept headers (pip's is always the same): parse each once.
_negotiated: dict[str, tuple[str, str] | None] = {}


def negotiate(accept: str, format_param: str = "") -> tuple[str, str] | None:
    """(page format, Content-Type) for an Accept header (PEP 691); None = 406."""
    if not format_param:
        try:
            return _negotiated[accept]
        except KeyError:
            chosen = _negotiate(accept, "")
            if len(_negotiated) < 1024:  # bounded: headers are client-chosen
                _negotiated[accept] = chosen
            return chosen
    return _negotiate(accept, format_param)


def _negotiate(accept: str, format_param: str) -> tuple[str, str] | None:
    if format_param:
        choice = _ACCEPTABLE.get(format_param.strip().lower())
        return (choice[0], choice[1]) if choice else None
    if not accept.strip():
        return ("html", "text/html")
    best: tuple[float, int, str, str] | None = None
    for item in accept.split(","):
        media, *params = [p.strip() for p in item.split(";")]
        media = media.lower()
        q = 1.0
        for p in params:
            k, _, v = p.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        if media in ("*/*", "text/*", "application/*"):
            candidates = [("html", "text/html", 0)] if media != "application/*" else [("json", JSON_TYPE, 0)]
        elif media in _ACCEPTABLE:
            candidates = [_ACCEPTABLE[media]]
        else:
            continue
        for fmt, ctype, pref in candidates:
            if best is None or (q, pref) > (best[0], best[1]):
                best = (q, pref, fmt, ctype)
    return (best[2], best[3]) if best else None


# --- stored pages -----------------------------------------------------------------------

#: how pages are kept in the document cache: read again after the TTL, or sooner when the
#: store's change tag says a page was rewritten; a missing page is kept too (404 storms)
PAGES = CachePolicy(ttl_s=PAGE_CACHE_TTL_S, untagged_ttl_s=PAGE_CACHE_TTL_S, remember_missing=True)


def gzip_etag(etag: str) -> str:
    # a representation of its own (RFC 9110 8.8.3): its own strong validator
    return etag[:-1] + '-gz"'


#: pages smaller than this go out as they are (gzip would save next to nothing)
GZIP_MIN_BYTES = 512


async def _gzipped(page: Document) -> Document:
    # mtime=0: the same page always compresses to the same bytes
    data = page.body
    body = await asyncio.to_thread(gzip.compress, data, 6, mtime=0) if len(data) > 64 * 1024 else gzip.compress(data, 6, mtime=0)
    return Document(body, gzip_etag(page.etag))


def _accepts_gzip(header: str) -> bool:
    """Accept-Encoding names gzip with a non-zero q (pip sends "gzip, deflate")."""
    for item in header.split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            q = params.strip().lower()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


async def _serve_page(request: web.Request, owner: str, label: str, project: str = "") -> web.StreamResponse:
    chosen = negotiate(request.headers.get("Accept", ""), request.query.get("format", ""))
    if chosen is None:
        raise web.HTTPNotAcceptable(
            text=f"acceptable types: {JSON_TYPE}, {HTML_TYPE}, text/html", headers={"Vary": "Accept"}
        )
    fmt, content_type = chosen
    # bad credentials answered 401 with a Basic challenge (PYPI_READ): pip then asks its
    # keyring / prompts instead of silently treating the index as empty
    allowed = grant(request)
    readable, authenticated = allowed.access, allowed.principal is not None
    view = readable.view
    if view is IndexView.PARTIAL:  # some private projects of this owner, not all (issue 5)
        if project:
            view = IndexView.PRIVATE if normalize(project) in {normalize(p) for p in readable.packages} else IndexView.PUBLIC
        else:
            return await _partial_list(request, owner, label, fmt, content_type, readable)
    key = pypi_page_key(owner, view, label, fmt, project)
    documents = request.config_dict[keys.DOCUMENTS]
    page = await documents.get(request.config_dict[keys.BLOBS], key, PAGES)
    if page is None:
        what = "such project" if project else "index"  # one answer whether missing or refused (issue 5)
        raise errors.NotFound(f"no {what} in {owner}'s PyPI index" + (f" (label {label})" if label != "main" else ""))
    cache = "max-age=0, must-revalidate" + (", private" if authenticated or view is IndexView.PRIVATE else "")
    gz = len(page.body) >= GZIP_MIN_BYTES and _accepts_gzip(request.headers.get("Accept-Encoding", ""))
    validators = (page.etag, gzip_etag(page.etag))
    headers = {"ETag": validators[1] if gz else page.etag, "Vary": "Accept, Accept-Encoding", "Cache-Control": cache}
    if not_modified(request, validators):
        return not_modified_response(headers)
    if gz:
        zipped = page.forms.get("gzip") or await documents.form(key, page, "gzip", _gzipped)
        return web.Response(body=zipped.body, headers={**headers, "Content-Encoding": "gzip", "Content-Type": content_type})
    return web.Response(body=page.body, headers={**headers, "Content-Type": content_type})


async def _partial_list(request: web.Request, owner: str, label: str, fmt: str, content_type: str, access) -> web.Response:
    built = await pypi_list_page(request, lambda v, f: pypi_page_key(owner, v, label, f), access, fmt, PAGES)
    if built is None:
        raise errors.NotFound(f"no index in {owner}'s PyPI index" + (f" (label {label})" if label != "main" else ""))
    body, etag = built
    headers = {"ETag": etag, "Vary": "Accept", "Cache-Control": "max-age=0, must-revalidate, private", "Content-Type": content_type}
    return document_response(request, body, headers)


def _redirect(request: web.Request, path: str) -> web.Response:
    # relative to the mount: keeps /pypi (or the pypi. host) and any /t/<token>/ prefix
    prefix = request.config_dict[keys.MOUNT_PREFIX]
    token = request.match_info.get("_path_token")
    location = prefix + (f"/t/{token}" if token else "") + path
    if request.query_string:
        location += "?" + request.query_string
    raise web.HTTPMovedPermanently(location)


async def project_list(request: web.Request) -> web.StreamResponse:
    m = request.match_info
    label = m.get("label", "main")
    if not request.path.endswith("/"):
        _redirect(request, _simple_path(m["owner"], m.get("label")) )
    return await _serve_page(request, m["owner"], label)


def _simple_path(owner: str, label: str | None, project: str = "") -> str:
    base = f"/{owner}/label/{label}/simple/" if label else f"/{owner}/simple/"
    return base + (f"{project}/" if project else "")


async def project_page(request: web.Request) -> web.StreamResponse:
    m = request.match_info
    project = m["project"]
    if normalize(project) != project or not request.path.endswith("/"):
        _redirect(request, _simple_path(m["owner"], m.get("label"), normalize(project)))
    return await _serve_page(request, m["owner"], m.get("label", "main"), project)


# --- files ------------------------------------------------------------------------------


async def download(request: web.Request) -> web.StreamResponse:
    m = request.match_info
    owner, basename = m["owner"], m["basename"]
    metadata = basename.endswith(".metadata") and not basename.endswith((".whl", ".tar.gz", ".zip"))
    if metadata:
        basename = basename[: -len(".metadata")]
    ref = common_pb2.FileRef(owner=owner, package=m["package"], version=m["version"], basename=basename)
    try:
        # a sidecar's bytes are no download of the file: not counted
        record = await open_download(request, ref, grant(request).access, label=m.get("label", "main"), file_type="pypi", count=not metadata)
    except (errors.NotFound, errors.Invalid):
        raise errors.NotFound("File not found") from None
    blobs = request.config_dict[keys.BLOBS]
    if metadata:
        return await send_blob(
            request, blobs, blob_key=sidecar_key(record.sha256, "metadata"), filename=basename + ".metadata",
            content_type="text/plain; charset=utf-8", not_found="File not found", allow_redirect=False, public=record.package_public,
        )
    return await send_blob(request, blobs, blob_key=record.blob_key, filename=record.basename, sha256=record.sha256, not_found="File not found",
                           public=record.package_public)


# --- twine upload (legacy API) ----------------------------------------------------------


class UploadRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = " ".join(message.split())  # one line: it becomes the reason phrase


def _refusal(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    reason = message.encode("latin-1", "replace").decode("latin-1")[:400]
    return web.Response(status=status, reason=reason, text=message + "\n", headers=headers)


def _twine_answers(handler):
    """twine prints only the reason phrase: every refusal, the access rule's included, is one."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except UploadRefused as r:
            return _refusal(r.status, r.message)
        except errors.ServiceError as e:
            headers = {"WWW-Authenticate": 'Basic realm="pkgcloud"'} if e.http_status == 401 else None
            return _refusal(e.http_status, e.message, headers)

    return wrapped


async def _read_fields(reader) -> tuple[dict[str, list[str]], object]:
    fields: dict[str, list[str]] = {}
    seen = 0
    while True:
        part = await reader.next()
        if part is None:
            raise UploadRefused(400, "Upload payload does not have a file (the 'content' field).")
        if part.name == "content":
            return fields, part
        value = bytearray()
        while chunk := await part.read_chunk(65536):
            value += chunk
            seen += len(chunk)
            if seen > MAX_FIELDS_BYTES:
                raise UploadRefused(400, "The upload's metadata fields are too large.")
        if part.name:
            fields.setdefault(part.name, []).append(bytes(value).decode("utf-8", "replace"))


def _one(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
    return values[0].strip()


async def upload(request: web.Request) -> web.StreamResponse:
    """The caller holds pypi:upload and is the owner or a member of the org (PYPI_UPLOAD);
    write access to the project named in the body is decided before anything is created."""
    owner = request.match_info["owner"]
    label = request.match_info.get("label", "main")
    registry = request.config_dict[keys.CLIENTS].registry
    if label != "main":
        await _require_open_label(registry, owner, label)
    if not request.content_type.startswith("multipart/form-data"):
        raise UploadRefused(400, "Uploads must be multipart/form-data (the legacy upload API, as twine sends it).")
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, KeyError):
        raise UploadRefused(400, "The body is not well-formed multipart/form-data.") from None
    fields, content = await _read_fields(reader)

    action = _one(fields, ":action")
    if action != "file_upload":
        raise UploadRefused(400 if action != "submit" else 410, f"Unsupported :action {action!r}; only file_upload is supported.")
    if _one(fields, "protocol_version") not in ("", "1"):
        raise UploadRefused(400, "Unknown protocol version.")
    filename = content.filename or ""
    if not filename or "/" in filename or "\\" in filename or any(ord(c) < 32 for c in filename):
        raise UploadRefused(400, f"Invalid distribution filename {filename!r}.")
    suffix = next((s for s in _DIST_SUFFIXES if filename.endswith(s)), None)
    if suffix is None:
        raise UploadRefused(400, f"Invalid file extension: {filename} is not a wheel (.whl) or an sdist (.tar.gz, .zip).")
    filetype = _one(fields, "filetype")
    if filetype and filetype != _DIST_SUFFIXES[suffix]:
        raise UploadRefused(400, f"Invalid file extension for filetype {filetype}: {filename}.")
    name, version = _one(fields, "name"), _one(fields, "version")
    if not name or not version:
        raise UploadRefused(400, "The upload must carry the project's name and version fields.")
    sha256 = _one(fields, "sha256_digest").lower()
    blake2 = _one(fields, "blake2_256_digest").lower()
    if not _HEX64.match(sha256):
        raise UploadRefused(400, "The upload must carry sha256_digest (64 hexadecimal digits).")
    if blake2 and not _HEX64.match(blake2):
        raise UploadRefused(400, "blake2_256_digest must be 64 hexadecimal digits.")

    ensured = await _ensure_release(request, registry, owner, name, version, filename, summary=_one(fields, "summary"))
    package, created_package, created_release = ensured.package, ensured.package_created, ensured.release_created
    try:
        ref = common_pb2.FileRef(owner=owner, package=package, version=version, basename=filename)
        if ensured.HasField("file"):
            existing = ensured.file
            await _drain(content)
            if existing.sha256 == sha256 and (not blake2 or not existing.blake2_256 or existing.blake2_256 == blake2):
                if label not in existing.labels:
                    # the same bytes uploaded to another label: the file joins that label
                    await call(registry.AddLabel(registry_pb2.LabelSpec(
                        owner=owner, label=label, package=package, version=version, basename=filename,
                    )))
                return web.Response(text="OK: identical file already uploaded\n")
            raise UploadRefused(400, f"File already exists ({filename!r}, with sha256 hash {existing.sha256!r}).")

        stage = await call(registry.StageUpload(registry_pb2.StageUploadRequest(
            ref=ref, distribution_type="pypi", sha256=sha256, attrs_json="{}", labels=[label],
            form_post_url=str(request.url.with_query(None)),
        )))
        upload_key = next(f.value for f in stage.form_data if f.name == "key")
        form_grant = await call(registry.GrantFormUpload(registry_pb2.GrantFormUploadRequest(key=upload_key)))
        blobs = request.config_dict[keys.BLOBS]
        got_sha, got_blake2 = hashlib.sha256(), hashlib.blake2b(digest_size=32)

        async def chunks():
            while chunk := await content.read_chunk(CHUNK):
                got_sha.update(chunk)
                got_blake2.update(chunk)
                yield chunk

        try:
            await blobs.put_stream(form_grant.blob_key, chunks(), max_size=form_grant.max_size or None)
        except BlobTooLarge:
            raise UploadRefused(413, f"File too large: the limit is {form_grant.max_size} bytes.") from None
        if got_sha.hexdigest() != sha256 or (blake2 and got_blake2.hexdigest() != blake2):
            await blobs.delete(form_grant.blob_key)
            raise UploadRefused(400, "The digest supplied does not match a digest calculated from the uploaded file.")
        await call(registry.CommitUpload(registry_pb2.CommitUploadRequest(ref=ref, dist_id=stage.dist_id)))
    except BaseException:
        await _forget_empty(registry, owner, package, version, created_package, created_release)
        raise
    return web.Response(text="OK\n")


async def _require_open_label(registry, owner: str, label: str) -> None:
    """Refuse an invalid or locked label before anything is read or created (the registry
    checks again at stage and commit)."""
    try:
        shown = await call(registry.GetLabel(registry_pb2.LabelRef(owner=owner, label=label)))
    except errors.NotFound:
        return  # a new label: it exists once a file carries it
    if shown.label.is_locked:
        raise errors.Forbidden(f"label {label!r} of {owner} is locked: unlock it first (anaconda label --unlock {label})")


#: EnsureRelease answers "exists under another spelling" at most this often in a row (each
#: time another upload renamed the project under us: practically never twice)
_ENSURE_ATTEMPTS = 3


async def _ensure_release(request: web.Request, registry, owner: str, name: str, version: str, filename: str, *, summary: str):
    """The project's package and release, found by normalized name or created (one
    EnsureRelease), after the write check on the package it writes into: the existing
    spelling when there is one (a group's write covers the packages it lists by name)."""
    allowed = grant(request)
    checked = name
    try:
        await allowed.require_write(owner, checked)
    except errors.Forbidden as refused:
        # refused on the name as given: the caller may still write the project as it exists
        try:
            found = await call(registry.EnsureRelease(registry_pb2.EnsureReleaseRequest(owner=owner, name=name, lookup_only=True)))
        except errors.Invalid:
            raise refused from None  # authorization before validation: the refusal stands
        if not found.package or found.package == name:
            raise
        checked = found.package
        await allowed.require_write(owner, checked)
    for _ in range(_ENSURE_ATTEMPTS):
        ensured = await call(registry.EnsureRelease(registry_pb2.EnsureReleaseRequest(
            owner=owner, name=name, version=version, checked_package=checked, public=True, summary=summary,
            package_types=["pypi"], release_attrs_json="{}", basename=filename,
        )))
        if ensured.checked:
            return ensured
        checked = ensured.package  # exists under another spelling: nothing was written; check that one
        await allowed.require_write(owner, checked)
    raise UploadRefused(409, f"The project {name!r} is being renamed concurrently; upload again.")


async def _forget_empty(registry, owner: str, package: str, version: str, created_package: bool, created_release: bool) -> None:
    """A refused upload leaves nothing behind: drop the package/release it created."""
    try:
        if created_package:
            await call(registry.DeletePackage(registry_pb2.PackageRef(owner=owner, name=package)))
        elif created_release:
            await call(registry.DeleteRelease(registry_pb2.ReleaseRef(owner=owner, package=package, version=version)))
    except errors.ServiceError:
        pass


async def _drain(part) -> None:
    while await part.read_chunk(CHUNK):
        pass


# --- yanking (PEP 592) -----------------------------------------------------------------


async def yank(request: web.Request) -> web.StreamResponse:
    """POST yanks, DELETE un-yanks a release's distributions (or one file of it).
    The reason comes as JSON {"reason": ...}, a form field or ?reason=; pip shows it when an
    == pin still installs the yanked file."""
    m = request.match_info
    owner, version, basename = m["owner"], m["version"], m.get("basename", "")
    yanked = request.method == "POST"
    reason = await _yank_reason(request) if yanked else ""
    resp = await call(request.config_dict[keys.CLIENTS].registry.SetReleaseYanked(registry_pb2.SetReleaseYankedRequest(
        owner=owner, project=m["project"], version=version, basenames=[basename] if basename else [], yanked=yanked, reason=reason,
    )))
    files = [{"filename": f.basename, "yanked": f.yanked, "yanked_reason": f.yanked_reason} for f in resp.files]
    return web.json_response({"project": normalize(resp.package), "version": version, "files": files})


async def _yank_reason(request: web.Request) -> str:
    reason = request.query.get("reason", "")
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise errors.Invalid("the body is not valid JSON") from None
            if not isinstance(body, dict) or not isinstance(body.get("reason", ""), str):
                raise errors.Invalid('the body must be a JSON object like {"reason": "..."}')
            reason = body.get("reason", "") or reason
        else:
            form = await request.post()
            value = form.get("reason", "")
            reason = (value if isinstance(value, str) else "") or reason
    return reason


# --- the sub-application ----------------------------------------------------------------


def create_app() -> web.Application:
    app = web.Application()
    r = app.router
    # aiohttp tries the routes of a sub-app in the order they were added until one matches:
    # pip's page first, the rest after (every try is a regex match on the hot path)
    for base in ("/{owner}", "/{owner}/label/{label}"):
        add_route(r, "GET", f"{base}/simple/{{project}}/", project_page, access.PYPI_READ)
        add_route(r, "GET", f"{base}/simple/{{project}}", project_page, access.PYPI_READ)
        add_route(r, "GET", f"{base}/simple/", project_list, access.PYPI_READ)
        add_route(r, "GET", f"{base}/simple", project_list, access.PYPI_READ)
        add_route(r, "GET", f"{base}/files/{{package}}/{{version}}/{{basename}}", download, access.PYPI_READ)
    # a browser at an index URL goes to the owner's page
    for path in ("/{owner}", "/{owner}/", "/{owner}/label/{label}", "/{owner}/label/{label}/"):
        add_route(r, "GET", path, web_catalog.channel_page, access.PYPI_READ)
    for path in ("/{owner}", "/{owner}/", "/{owner}/legacy", "/{owner}/legacy/",
                 "/{owner}/label/{label}", "/{owner}/label/{label}/", "/{owner}/label/{label}/legacy/"):
        add_route(r, "POST", path, upload, access.PYPI_UPLOAD, wrap=_twine_answers)
    for path in ("/{owner}/yank/{project}/{version}", "/{owner}/yank/{project}/{version}/",
                 "/{owner}/yank/{project}/{version}/{basename}"):
        add_route(r, "POST", path, yank, access.PYPI_YANK)
        add_route(r, "DELETE", path, yank, access.PYPI_YANK)
    return app
