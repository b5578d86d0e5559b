"""Reading and validating an uploaded file's own metadata, per distribution type.

At commit the registry has the exact bytes in the blob store (checksum verified). The
inspector for the file's type reads what it needs from them (without unpacking to disk),
refuses a malformed or inconsistent file with errors.Invalid, and returns the metadata the
registry records and the indexes are built from. Types without an inspector keep the
attributes the client sent.

Each type's inspector lives in its own module, imported lazily so a service image carries
the parsing dependencies only of what it uses.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from pkgcloud_servicekit.blobstore import BlobStore


@dataclass(frozen=True)
class UploadContext:
    owner: str
    package: str
    version: str
    basename: str
    distribution_type: str
    client_attrs: dict[str, Any]   # what the client sent in the stage request
    size: int
    sha256: str


@dataclass
class Inspection:
    attrs: dict[str, Any]                       # recorded as the file's attrs_json
    subdir: str = ""                            # conda subdir ("" for other types)
    # derived blobs to store beside the file, key suffix -> bytes (e.g. a wheel's METADATA)
    sidecars: dict[str, bytes] = field(default_factory=dict)


class Inspector(Protocol):
    async def inspect(self, blobs: BlobStore, key: str, ctx: UploadContext) -> Inspection:
        """Read the blob at key; raise errors.Invalid with a clear message if it is unacceptable."""


# distribution type -> "module:attribute" of its Inspector
_REGISTRY: dict[str, str] = {
    "conda": "pkgcloud_registry.inspectors.conda:INSPECTOR",
    "pypi": "pkgcloud_registry.inspectors.pypi:INSPECTOR",
    "ipynb": "pkgcloud_registry.inspectors.notebook:INSPECTOR",
    "env": "pkgcloud_registry.inspectors.env:INSPECTOR",
}


def inspector_for(distribution_type: str) -> Inspector | None:
    target = _REGISTRY.get(distribution_type)
    if target is None:
        return None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
