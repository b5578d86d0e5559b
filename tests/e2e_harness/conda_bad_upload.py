"""The staged upload driven over HTTP exactly as anaconda-client does it, for files the client
itself would refuse to read (the bad-input corpus)."""

from __future__ import annotations

import hashlib

import requests


def upload_raw(api_url: str, token: str, owner: str, basename: str, data: bytes) -> tuple[int, object]:
    """Stage, POST the form, commit; the first failing step's status and JSON (or commit's)."""
    s = requests.Session()
    s.headers["Authorization"] = f"token {token}"
    fn = basename.rsplit("/", 1)[-1]
    stem = fn.removesuffix(".conda").removesuffix(".tar.bz2")
    name, version, _ = stem.rsplit("-", 2)
    if s.get(f"{api_url}/package/{owner}/{name}", timeout=10).status_code == 404:
        s.post(f"{api_url}/package/{owner}/{name}", json={"public": True, "public_attrs": {"summary": "s"}}, timeout=10)
    if s.get(f"{api_url}/release/{owner}/{name}/{version}", timeout=10).status_code == 404:
        s.post(f"{api_url}/release/{owner}/{name}/{version}", json={}, timeout=10)
    subdir = basename.split("/", 1)[0]
    r = s.post(f"{api_url}/stage/{owner}/{name}/{version}/{basename}", json={
        "distribution_type": "conda", "attrs": {"subdir": subdir}, "channels": [], "sha256": hashlib.sha256(data).hexdigest(),
    }, timeout=30)
    if r.status_code != 200:
        return r.status_code, r.json()
    staged = r.json()
    files = {"file": (fn, data)}
    form = requests.post(staged["post_url"], data=staged["form_data"], files=files, timeout=120)
    if form.status_code != 201:
        return form.status_code, _json(form)
    r = s.post(f"{api_url}/commit/{owner}/{name}/{version}/{basename}", json={"dist_id": staged["dist_id"]}, timeout=120)
    return r.status_code, _json(r)


def _json(r: requests.Response) -> object:
    try:
        return r.json()
    except ValueError:
        return r.text
