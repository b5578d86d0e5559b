"""SimplePageRenderer: the project list and project pages, in JSON (PEP 691, API 1.1) and
HTML (PEP 503 with the PEP 592/658/714 attributes). Pure functions of the indexed files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

from packaging.version import InvalidVersion, Version
from pkgcloud_servicekit.indexes import normalize_project

from ..store import IndexedFile

API_VERSION = "1.1"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def _attrs(f: IndexedFile) -> dict:
    try:
        value = json.loads(f.attrs_json or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _version_key(v: str):
    try:
        return (1, Version(v), v)
    except InvalidVersion:
        return (0, Version("0"), v)


def file_url(f: IndexedFile) -> str:
    """Relative to a project page: stays under the same owner, label and /t/<token>/ prefix."""
    return f"../../files/{quote(f.package, safe='')}/{quote(f.version, safe='')}/{quote(f.basename, safe='')}"


def _upload_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sorted(files: Iterable[IndexedFile]) -> list[IndexedFile]:
    return sorted(files, key=lambda f: (_version_key(f.version), f.basename))


def project_json(project: str, files: Iterable[IndexedFile]) -> bytes:
    files = _sorted(files)
    entries = []
    for f in files:
        attrs = _attrs(f)
        entry: dict = {"filename": f.basename, "url": file_url(f), "hashes": {"sha256": f.sha256}, "size": f.size}
        if attrs.get("requires_python"):
            entry["requires-python"] = attrs["requires_python"]
        if attrs.get("core_metadata_sha256"):
            entry["core-metadata"] = {"sha256": attrs["core_metadata_sha256"]}
        if f.yanked:
            entry["yanked"] = f.yanked_reason or True
        if f.upload_time_ms:
            entry["upload-time"] = _upload_time(f.upload_time_ms)
        entries.append(entry)
    versions = sorted({f.version for f in files}, key=_version_key)
    doc = {"meta": {"api-version": API_VERSION}, "name": normalize_project(project), "versions": versions, "files": entries}
    return json.dumps(doc, separators=(",", ":")).encode()


def project_html(project: str, files: Iterable[IndexedFile]) -> bytes:
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "<head>",
        f'<meta name="pypi:repository-version" content="{API_VERSION}">',
        f"<title>Links for {escape(project)}</title>",
        "</head>",
        "<body>",
        f"<h1>Links for {escape(project)}</h1>",
    ]
    for f in _sorted(files):
        attrs = _attrs(f)
        extra = ""
        if attrs.get("requires_python"):
            extra += f' data-requires-python="{escape(attrs["requires_python"])}"'
        if attrs.get("core_metadata_sha256"):
            value = f"sha256={attrs['core_metadata_sha256']}"
            extra += f' data-core-metadata="{value}" data-dist-info-metadata="{value}"'
        if f.yanked:
            extra += f' data-yanked="{escape(f.yanked_reason)}"'
        href = escape(f"{file_url(f)}#sha256={f.sha256}")
        lines.append(f'<a href="{href}"{extra}>{escape(f.basename)}</a><br/>')
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode()


def list_json(projects: dict[str, str]) -> bytes:
    """projects: normalized name -> display name."""
    doc = {"meta": {"api-version": API_VERSION}, "projects": [{"name": projects[k]} for k in sorted(projects)]}
    return json.dumps(doc, separators=(",", ":")).encode()


def list_html(projects: dict[str, str]) -> bytes:
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "<head>",
        f'<meta name="pypi:repository-version" content="{API_VERSION}">',
        "<title>Simple index</title>",
        "</head>",
        "<body>",
    ]
    for norm in sorted(projects):
        lines.append(f'<a href="{quote(norm)}/">{escape(projects[norm])}</a><br/>')
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode()
