"""Index documents for a principal who may read only some private packages of an owner (an
authorized user, a member of a group with read on chosen packages): the "partial" view.

index-svc publishes two views per owner: public (public packages) and private (all). The
partial view is the public document plus, from the private one, exactly the entries of the
packages the principal may read; it is built in memory from those two blobs (no database
access) and kept in the document cache keyed by both documents' ETags and the allowed set, so
a repeat request costs a dictionary lookup. Compressed and sharded conda variants are not built for it:
they answer 404 and conda clients fall back to the plain JSON.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web
from pkgcloud_servicekit import errors
from pkgcloud_servicekit.indexes import IndexView, normalize_project

from . import keys
from .document_cache import CachePolicy, Document, DocumentCache
from .policy import ReadAccess


def _built(cache: DocumentCache, key: tuple, body: bytes) -> tuple[bytes, str]:
    # the merged body's own digest: a change to a private package the caller may not read
    # leaves the caller's document, and its ETag, as they were
    doc = cache.keep_built(key, Document(body, '"p' + hashlib.sha256(body).hexdigest()[:32] + '"'))
    return doc.body, doc.etag


def _cached(cache: DocumentCache, key: tuple) -> tuple[bytes, str] | None:
    hit = cache.built(key)
    return None if hit is None else (hit.body, hit.etag)


def _conda_name(filename: str, record: Any) -> str:
    name = record.get("name") if isinstance(record, dict) else None
    return (name or filename.rsplit("-", 2)[0]).lower()


def merge_conda(kind: str, public: bytes | None, private: bytes | None, allowed: frozenset[str]) -> bytes | None:
    """`kind`: "channeldata" or a repodata-shaped document (repodata, current_repodata,
    run_exports). None when neither view has the document."""
    if public is None and private is None:
        return None
    pub = json.loads(public) if public is not None else None
    priv = json.loads(private) if private is not None else {}
    if kind == "channeldata":
        out = pub or {**priv, "packages": {}, "subdirs": []}
        extra = {n: v for n, v in priv.get("packages", {}).items() if n.lower() in allowed}
        if extra:
            out["packages"] = {**out.get("packages", {}), **extra}
            subdirs = set(out.get("subdirs", []))
            for v in extra.values():
                subdirs.update(v.get("subdirs", []) if isinstance(v, dict) else [])
            out["subdirs"] = sorted(subdirs)
    else:
        out = pub or {**priv, "packages": {}, "packages.conda": {}}
        for section in ("packages", "packages.conda"):
            extra = {fn: r for fn, r in priv.get(section, {}).items() if _conda_name(fn, r) in allowed}
            if extra:
                out[section] = {**out.get(section, {}), **extra}
    return json.dumps(out, separators=(",", ":"), sort_keys=True).encode()


async def conda_document(request: web.Request, key_public: str, key_private: str, name: str, access: ReadAccess,
                         fallback: bytes | None, policy: CachePolicy) -> tuple[bytes, str]:
    """(body, etag) of a conda index document in the partial view, from the public and
    private documents as kept for those views (`policy`: the conda protocol's)."""
    if name.endswith(".zst") or name.endswith(".msgpack.zst"):
        raise errors.NotFound("Not found")
    blobs, cache = request.config_dict[keys.BLOBS], request.config_dict[keys.DOCUMENTS]
    pub, priv = await cache.get(blobs, key_public, policy), await cache.get(blobs, key_private, policy)
    cache_key = ("conda", key_public, pub and pub.etag, priv and priv.etag, access.packages)
    hit = _cached(cache, cache_key)
    if hit is not None:
        return hit
    kind = "channeldata" if name == "channeldata.json" else "repodata"
    body = merge_conda(kind, pub and pub.body, priv and priv.body, access.packages)
    if body is None:
        if fallback is None:
            raise errors.NotFound("Not found")
        body = fallback
    return _built(cache, cache_key, body)


normalize = normalize_project


def pypi_list(fmt: str, public_json: bytes | None, private_json: bytes | None, allowed: frozenset[str]) -> bytes | None:
    """The project list of the partial view, rendered like index-svc renders the others
    (PEP 691 JSON or PEP 503 HTML)."""
    from html import escape
    from urllib.parse import quote

    if public_json is None and private_json is None:
        return None
    wanted = {normalize(a) for a in allowed}
    projects: dict[str, str] = {}
    for doc, keep_all in ((public_json, True), (private_json, False)):
        if doc is None:
            continue
        parsed = json.loads(doc)
        for p in parsed.get("projects", []):
            if keep_all or normalize(p["name"]) in wanted:
                projects[normalize(p["name"])] = p["name"]
    if fmt == "json":
        version = (json.loads(public_json or private_json).get("meta") or {}).get("api-version", "1.1")
        doc = {"meta": {"api-version": version}, "projects": [{"name": projects[k]} for k in sorted(projects)]}
        return json.dumps(doc, separators=(",", ":")).encode()
    lines = ["<!DOCTYPE html>", "<html>", "<head>", '<meta name="pypi:repository-version" content="1.1">',
             "<title>Simple index</title>", "</head>", "<body>"]
    lines += [f'<a href="{quote(k)}/">{escape(projects[k])}</a><br/>' for k in sorted(projects)]
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode()


async def pypi_list_page(request: web.Request, key_of, access: ReadAccess, fmt: str, policy: CachePolicy) -> tuple[bytes, str] | None:
    """(body, etag) of the partial project list; key_of(view, fmt) names a stored page, kept
    under `policy` (the pypi protocol's)."""
    blobs, cache = request.config_dict[keys.BLOBS], request.config_dict[keys.DOCUMENTS]
    pub = await cache.get(blobs, key_of(IndexView.PUBLIC, "json"), policy)
    priv = await cache.get(blobs, key_of(IndexView.PRIVATE, "json"), policy)
    cache_key = ("pypi", key_of(IndexView.PUBLIC, fmt), fmt, pub and pub.etag, priv and priv.etag, access.packages)
    hit = _cached(cache, cache_key)
    if hit is not None:
        return hit
    body = pypi_list(fmt, pub and pub.body, priv and priv.body, access.packages)
    return None if body is None else _built(cache, cache_key, body)
