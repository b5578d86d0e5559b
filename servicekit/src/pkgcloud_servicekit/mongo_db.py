"""MongoDB as the services' production metadata database (motor).

Kept behind this one seam because motor is deprecated in favour of PyMongo's async client
and tests substitute mongomock-motor's client here.
"""

from __future__ import annotations

from typing import Any

from .settings import Settings


def open_mongo_database(settings: Settings, service: str, client: Any | None = None) -> Any:
    """The service's own database (<prefix>_<service>) on the configured server."""
    if client is None:
        from motor.motor_asyncio import AsyncIOMotorClient

        if not settings.mongo_url:
            raise RuntimeError("PKGCLOUD_METADATA_BACKEND=mongo needs PKGCLOUD_MONGO_URL")
        client = AsyncIOMotorClient(settings.mongo_url, tz_aware=True)
    return client[settings.mongo_db_name(service)]
