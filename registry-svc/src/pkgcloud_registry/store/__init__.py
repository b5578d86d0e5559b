"""The registry's repository: packages, releases, files, staged uploads and the outbox."""

from __future__ import annotations

from pkgcloud_servicekit.settings import Settings

from .interfaces import (
    PackageRecord,
    PendingEvent,
    RegistryStore,
    ReleaseRecord,
    StagedUpload,
    StoredFile,
)

__all__ = ["PackageRecord", "PendingEvent", "RegistryStore", "ReleaseRecord", "StagedUpload", "StoredFile", "make_registry_store"]


def make_registry_store(settings: Settings) -> RegistryStore:
    if settings.metadata_backend == "mongo":
        from pkgcloud_servicekit.mongo_db import open_mongo_database

        from .mongo import MongoRegistryStore

        return MongoRegistryStore(open_mongo_database(settings, "registry"))
    from .sqlite import SqliteRegistryStore

    return SqliteRegistryStore(settings.sqlite_path("registry"))
