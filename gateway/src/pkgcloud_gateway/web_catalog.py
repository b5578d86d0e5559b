"""What the web UI says about packages beyond their records (issue 13): how to install a package
from every protocol it has, its description rendered from its own README, search, the recently
updated public packages of the home page, and the way from a channel or index URL opened in a
browser to the owner's page.

Descriptions are the package's own text: a wheel's long description (its METADATA, kept as a
sidecar blob by the registry), else the conda package's about.json description, else the one
set on the package. Markdown is rendered with mistune and the result cleaned with nh3's
allow-list, as notebooks are (no script, handler, style, frame, form or `javascript:` link).
"""

from __future__ import annotations

import email.parser
import email.policy
import html
from urllib.parse import quote, urlencode

from aiohttp import web
from markupsafe import Markup
from pkgcloud_protos.v1 import registry_pb2
from pkgcloud_servicekit import errors
from pkgcloud_servicekit.blobstore import BlobNotFound, sidecar_key

from . import keys, policy
from .clients import call
from .representations import iso, loads_or
from .routing import protocol_base_url, web_base_url

#: a description longer than this is cut (a README is a page, not a book)
MAX_DESCRIPTION_CHARS = 200_000
RECENT_PACKAGES = 12
SEARCH_TYPES = ("conda", "pypi", "file", "ipynb", "env")
_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5",
         "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td",
         "th", "thead", "tr", "ul"}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "td": {"align"}, "th": {"align"}, "code": {"class"}}


# --- browsers at channel and index URLs ----------------------------------------------------

def wants_html(request: web.Request) -> bool:
    """A browser: `text/html` named in Accept and preferred to every other named type. Clients
    of the machine formats send */* or their own types first (pip puts text/html at q=0.01)."""
    html_q, other_q = 0.0, 0.0
    for item in request.headers.get("Accept", "").split(","):
        media, *params = [p.strip() for p in item.split(";")]
        media = media.lower()
        if not media or "*" in media:
            continue
        try:
            q = float(next((p.split("=", 1)[1] for p in params if p.lower().startswith("q=")), "1"))
        except ValueError:
            q = 0.0
        if media in ("text/html", "application/xhtml+xml"):
            html_q = max(html_q, q)
        else:
            other_q = max(other_q, q)
    return html_q > 0 and html_q >= other_q


def owner_page_url(request: web.Request, owner: str, *, tab: str = "", label: str = "") -> str:
    query = {k: v for k, v in (("tab", tab), ("label", label)) if v}
    return f"{web_base_url(request)}/{quote(owner)}" + (f"?{urlencode(query)}" if query else "")


def to_owner_page(request: web.Request, *, tab: str = "") -> web.Response:
    """303 to the owner's web page (the labels view for a label URL)."""
    label = request.match_info.get("label", "")
    return web.Response(status=303, headers={
        "Location": owner_page_url(request, request.match_info["owner"], tab="labels" if label else tab, label=label),
        "Vary": "Accept",
    })


async def channel_page(request: web.Request) -> web.StreamResponse:
    """GET /conda/<owner>[/label/<label>] and /pypi/<owner>: the owner's page for a browser;
    clients keep the answer they always had (nothing is served there)."""
    if wants_html(request):
        return to_owner_page(request, tab="")
    raise errors.NotFound("Not found")


# --- package pages ---------------------------------------------------------------------------

def install_commands(request: web.Request, pkg: registry_pb2.Package) -> list[dict[str, str]]:
    """One command per protocol the package has, with this server's URLs."""
    owner, name = pkg.owner, pkg.name
    out = []
    types = set(pkg.package_types)
    if "conda" in types:
        out.append({"protocol": "conda", "command": f"conda install -c {protocol_base_url(request, 'conda')}/{owner} {name}"})
    if "pypi" in types:
        out.append({"protocol": "pip", "command": f"pip install --index-url {protocol_base_url(request, 'pypi')}/{owner}/simple {name}"})
    if "env" in types:
        out.append({"protocol": "environment", "command": f"anaconda download {owner}/{name}   # or: conda env create {owner}/{name}"})
    if "ipynb" in types:
        out.append({"protocol": "notebook", "command": f"anaconda download {owner}/{name}"})
    if "file" in types or not out and pkg.files:
        out.append({"protocol": "files", "command": f"anaconda download {owner}/{name}"})
    return out


def render_markdown(text: str) -> Markup:
    """Markdown to HTML, cleaned: what a package author wrote is not trusted."""
    import mistune
    import nh3

    raw = mistune.html(text[:MAX_DESCRIPTION_CHARS])  # escape=True: raw HTML in the text stays text
    clean = nh3.clean(raw, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                      link_rel="noopener noreferrer nofollow", strip_comments=True)
    return Markup(clean)  # cleaned by nh3's allow-list just above


def render_text(text: str, content_type: str) -> Markup:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in ("text/markdown", "text/x-markdown", ""):
        return render_markdown(text)
    # reStructuredText and plain text: shown as written (no docutils here)
    return Markup(f"<pre>{html.escape(text[:MAX_DESCRIPTION_CHARS])}</pre>")


async def _wheel_description(request: web.Request, pkg: registry_pb2.Package) -> tuple[str, str] | None:
    wheels = [f for f in pkg.files if f.type == "pypi" and f.basename.endswith(".whl")]
    if not wheels:
        return None
    newest = max(wheels, key=lambda f: f.upload_time_ms)
    try:
        raw = await request.config_dict[keys.BLOBS].read_bytes(sidecar_key(newest.sha256, "metadata"))
    except BlobNotFound:
        return None
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
    body = msg.get_payload()
    text = body if isinstance(body, str) and body.strip() else str(msg.get("Description") or "")
    if not text.strip():
        return None
    return text, str(msg.get("Description-Content-Type") or "text/x-rst")


async def description_html(request: web.Request, pkg: registry_pb2.Package) -> Markup | None:
    """The package's own description, rendered and cleaned; None when it has none."""
    found = await _wheel_description(request, pkg)
    if found is not None:
        return render_text(*found)
    for f in sorted(pkg.files, key=lambda f: -f.upload_time_ms):
        if f.type == "conda":
            about = loads_or(f.attrs_json, {})
            text = about.get("description") if isinstance(about, dict) else None
            if isinstance(text, str) and text.strip():
                return render_markdown(text)
    attrs = loads_or(pkg.public_attrs_json, {})
    text = attrs.get("description") if isinstance(attrs, dict) else None
    if isinstance(text, str) and text.strip():
        return render_markdown(text)
    return None


def label_rows(pkg: registry_pb2.Package, base: str) -> list[dict]:
    counts: dict[str, int] = {}
    for f in pkg.files:
        for lab in f.labels:
            counts[lab] = counts.get(lab, 0) + 1
    return [{"name": lab, "files": n, "url": f"{base}/files?label={quote(lab)}"} for lab, n in sorted(counts.items())]


# --- search and the home page -----------------------------------------------------------------

def _platforms(p: registry_pb2.Package) -> list[str]:
    return sorted({f.subdir or "noarch" for f in p.files if f.type == "conda"})


def package_row(p: registry_pb2.Package) -> dict:
    return {
        "owner": p.owner, "name": p.name, "summary": p.summary, "public": p.public, "types": list(p.package_types),
        "platforms": _platforms(p), "latest": p.versions[-1] if p.versions else "", "url": f"/{p.owner}/{quote(p.name)}",
        "updated": iso(p.modified_at_ms)[:16].replace("T", " ") + " UTC" if p.modified_at_ms else "",
    }


async def readable(request: web.Request, packages) -> list[registry_pb2.Package]:
    """Only what the viewer may read (a private package never shows to anyone else)."""
    access: dict[str, policy.ReadAccess] = {}
    out = []
    for p in packages:
        if not p.public:
            if p.owner not in access:
                access[p.owner] = await policy.read_access(request, p.owner, None)
            if not access[p.owner].may_read(p.name, p.public):
                continue
        out.append(p)
    return out


async def search_results(request: web.Request, q: str, kind: str, platform: str) -> list[dict]:
    if kind and kind not in SEARCH_TYPES:
        raise errors.Invalid(f"unknown package type {kind!r} (expected one of {', '.join(SEARCH_TYPES)})")
    resp = await call(request.config_dict[keys.CLIENTS].registry.SearchPackages(
        registry_pb2.SearchPackagesRequest(name=q, package_type=kind, platform=platform)))
    return [package_row(p) for p in await readable(request, resp.packages)]


def facets(rows: list[dict]) -> dict[str, list[tuple[str, int]]]:
    """How many results per type and per conda platform (the page's filters)."""
    types: dict[str, int] = {}
    platforms: dict[str, int] = {}
    for r in rows:
        for t in r["types"]:
            types[t] = types.get(t, 0) + 1
        for p in r["platforms"]:
            platforms[p] = platforms.get(p, 0) + 1
    return {"types": sorted(types.items()), "platforms": sorted(platforms.items())}


async def recent_public(request: web.Request, limit: int = RECENT_PACKAGES) -> list[dict]:
    resp = await call(request.config_dict[keys.CLIENTS].registry.SearchPackages(
        registry_pb2.SearchPackagesRequest(name="", limit=limit, newest_first=True, public_only=True)))
    return [package_row(p) for p in resp.packages if p.public]
