"""auth-svc's metadata store: one contract (AuthStore), SQLite and MongoDB implementations."""

from __future__ import annotations

from pkgcloud_servicekit.settings import Settings

from .interfaces import AuthStore

__all__ = ["AuthStore", "make_auth_store"]


def make_auth_store(settings: Settings) -> AuthStore:
    """The store PKGCLOUD_METADATA_BACKEND selects, not yet opened."""
    if settings.metadata_backend == "mongo":
        from pkgcloud_servicekit.mongo_db import open_mongo_database

        from .mongo import MongoAuthStore

        return MongoAuthStore(open_mongo_database(settings, "auth"))
    from .sqlite import SqliteAuthStore

    return SqliteAuthStore(settings.sqlite_path("auth"))
