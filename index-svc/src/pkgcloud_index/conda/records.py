"""A committed conda file -> its repodata record (CEP 36 + CEP 47), as rattler's indexer
writes it: the package's info/index.json, with md5/sha256/size of the stored bytes and
indexed_timestamp (the moment the file entered the registry, fixed for ever)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# What the registry's conda inspector adds beside the index.json keys.
_NOT_RECORD = ("about", "run_exports")


@dataclass(frozen=True)
class CondaFile:
    """The facts about one file the channel documents need."""

    package: str
    version: str
    basename: str          # '<subdir>/<fn>'
    subdir: str
    labels: tuple[str, ...]
    public: bool
    sha256: str
    size: int
    upload_time_ms: int
    attrs_json: str

    @property
    def fn(self) -> str:
        return self.basename.rsplit("/", 1)[-1]


def parse_attrs(f: CondaFile) -> dict[str, Any]:
    try:
        attrs = json.loads(f.attrs_json or "{}")
    except ValueError:
        return {}
    return attrs if isinstance(attrs, dict) else {}


def record(f: CondaFile, attrs: dict[str, Any]) -> dict[str, Any]:
    rec = {k: v for k, v in attrs.items() if k not in _NOT_RECORD and v is not None}
    if rec.get("constrains") == []:
        del rec["constrains"]
    rec["sha256"] = f.sha256
    rec["size"] = f.size
    rec.setdefault("md5", attrs.get("md5", ""))
    rec["subdir"] = f.subdir
    if f.upload_time_ms:
        rec["indexed_timestamp"] = f.upload_time_ms
    if f.fn.endswith(".conda") and isinstance(attrs.get("run_exports"), dict):
        rec["run_exports"] = attrs["run_exports"]
    return rec


def run_exports(attrs: dict[str, Any]) -> dict[str, Any]:
    value = attrs.get("run_exports")
    return value if isinstance(value, dict) else {}
