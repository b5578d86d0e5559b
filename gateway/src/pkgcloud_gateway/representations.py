"""protobuf -> the JSON shapes anaconda-client reads (reference/anaconda-client-api.md §7).

Keys the client requires are always present, lists are never null: upload cleanup deletes
a package or release whose `files` / `distributions` look empty.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pkgcloud_protos.v1 import auth_pb2, common_pb2, registry_pb2


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def iso_or_none(ms: int) -> str | None:
    return iso(ms) if ms else None


def loads_or(text: str, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def user_json(user: auth_pb2.User, *, include_email: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "login": user.login,
        "name": user.name,
        "user_type": user.user_type or "user",
        "created_at": iso(user.created_at_ms),
        "description": user.description,
        "company": "",
        "location": "",
        "url": "",
    }
    if include_email:
        out["email"] = user.email
    return out


def token_json(info: auth_pb2.TokenInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "application": info.name,
        "remote_addr": info.remote_addr,
        "hostname": info.hostname,
        "expires": iso_or_none(info.expires_at_ms),
        "scopes": list(info.scopes),
        "created_at": iso_or_none(info.created_at_ms),
        "last_used": iso_or_none(info.last_used_ms),
    }


def file_full_name(f: common_pb2.FileRecord) -> str:
    return f"{f.owner}/{f.package}/{f.version}/{f.basename}"


def file_json(f: common_pb2.FileRecord, api_base: str) -> dict[str, Any]:
    """One distribution: files[] of a package, distributions[] of a release, GET /dist."""
    return {
        "basename": f.basename,
        "version": f.version,
        "type": f.type,
        "distribution_type": f.type,
        "owner": f.owner,
        "package": f.package,
        "full_name": file_full_name(f),
        "upload_time": iso(f.upload_time_ms),
        "size": f.size,
        "md5": f.md5,
        "sha256": f.sha256,
        "labels": list(f.labels),
        "description": f.description,
        "attrs": loads_or(f.attrs_json, {}),
        "dependencies": loads_or(f.dependencies_json, {}),
        "ndownloads": f.download_count,
        # PEP 592 (set through /pypi/<owner>/yank/...): anaconda.org has no such field
        "yanked": f.yanked,
        "download_url": f"{api_base}/download/{file_full_name(f)}",
    }


def _platform(subdir: str) -> str:
    # anaconda.org said null for noarch; anaconda-client 1.2.2 joins the list and crashes on a
    # null (later clients skip nulls), so noarch is named
    return subdir or "noarch"


def package_json(p: registry_pb2.Package, api_base: str) -> dict[str, Any]:
    attrs = loads_or(p.public_attrs_json, {})
    if not isinstance(attrs, dict):
        attrs = {}
    files = [file_json(f, api_base) for f in p.files]
    by_version: dict[str, list[str]] = {v: [] for v in p.versions}
    for f in p.files:
        by_version.setdefault(f.version, []).append(f.basename)
    conda = [f for f in p.files if f.type == "conda"]
    platforms = sorted({_platform(f.subdir) for f in conda})
    builds = sorted({str(b) for f in conda if (b := loads_or(f.attrs_json, {}).get("build")) is not None} if conda else set())
    license_obj = attrs.get("license")
    return {
        "name": p.name,
        "full_name": f"{p.owner}/{p.name}",
        "owner": {"login": p.owner},
        "summary": p.summary,
        "description": attrs.get("description") or "",
        "license": p.license or (license_obj.get("name") if isinstance(license_obj, dict) else license_obj) or None,
        "public": p.public,
        "published": False,
        "package_types": list(p.package_types),
        "latest_version": p.versions[-1] if p.versions else "",
        "versions": list(p.versions),
        "releases": [
            {"version": v, "full_name": f"{p.owner}/{p.name}/{v}", "distributions": names}
            for v, names in by_version.items()
        ],
        "conda_platforms": platforms,
        "builds": builds,
        "files": files,
        "public_attrs": attrs,
        "created_at": iso(p.created_at_ms),
        "modified_at": iso(p.modified_at_ms),
    }


def release_json(r: registry_pb2.Release, api_base: str) -> dict[str, Any]:
    attrs = loads_or(r.attrs_json, {})
    if not isinstance(attrs, dict):
        attrs = {}
    return {
        "version": r.version,
        "owner": r.owner,
        "package": r.package,
        "full_name": f"{r.owner}/{r.package}/{r.version}",
        "description": attrs.get("description") or "",
        "summary": attrs.get("summary") or "",
        "public_attrs": attrs,
        "created_at": iso(r.created_at_ms),
        "distributions": [file_json(f, api_base) for f in r.files],
    }
