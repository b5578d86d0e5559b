"""Blob stores: where file bytes, indexes and rendered notebooks live."""

from __future__ import annotations

from ..settings import Settings
from .interfaces import BlobInfo, BlobNotFound, BlobStore, BlobTooLarge, PresignedPost, content_key, sidecar_key

__all__ = ["BlobInfo", "BlobNotFound", "BlobStore", "BlobTooLarge", "PresignedPost", "content_key", "make_blob_store", "sidecar_key"]


def make_blob_store(settings: Settings) -> BlobStore:
    if settings.blob_backend == "minio":
        from .minio_store import MinioBlobStore

        return MinioBlobStore.from_settings(settings)
    from .filesystem import FilesystemBlobStore

    return FilesystemBlobStore(settings.resolved_blob_dir)
