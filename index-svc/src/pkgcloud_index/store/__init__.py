"""index-svc's metadata: applied events, per-owner status, current files."""

from __future__ import annotations

from .interfaces import (
    AppliedEvent,
    FileChange,
    IndexedFile,
    IndexStore,
    OwnerStatus,
    RemoveFile,
    RemovePackage,
    SetPackagePrivacy,
    UnknownChange,
    UpsertFile,
)

__all__ = [
    "AppliedEvent",
    "FileChange",
    "IndexStore",
    "IndexedFile",
    "OwnerStatus",
    "RemoveFile",
    "RemovePackage",
    "SetPackagePrivacy",
    "UnknownChange",
    "UpsertFile",
]
