"""Typed keys for what the gateway keeps on its application and on each request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from pkgcloud_servicekit.blobstore import BlobStore
from pkgcloud_servicekit.settings import Settings

from .access_epoch import AccessEpoch
from .document_cache import DocumentCache

if TYPE_CHECKING:
    from .clients import Clients
    from .credentials import CredentialResolver, Principal

SETTINGS = web.AppKey("settings", Settings)
CLIENTS: web.AppKey[Clients] = web.AppKey("clients")
BLOBS = web.AppKey("blobs", BlobStore)
#: the published documents (and what is built from them) every protocol serves
DOCUMENTS = web.AppKey("documents", DocumentCache)
RESOLVER: web.AppKey[CredentialResolver] = web.AppKey("credential_resolver")
#: moved when who-may-do-what changed; the caches above and policy.AccessCache follow it
ACCESS_EPOCH = web.AppKey("access_epoch", AccessEpoch)
#: set on each protocol sub-app: "api", "conda", ... (metrics labels, URL building)
PROTOCOL = web.AppKey("protocol", str)
#: how the protocol sub-app was reached: "" when mounted on its own host, else "/api" etc.
MOUNT_PREFIX = web.AppKey("mount_prefix", str)

REQUEST_ID = web.RequestKey("request_id", str)
#: memoised result of credential resolution (None = anonymous)
PRINCIPAL: web.RequestKey[Principal | None] = web.RequestKey("principal")
#: set by a handler whose 401 should carry `WWW-Authenticate: Basic` (pip asks for credentials then)
BASIC_CHALLENGE = web.RequestKey("basic_challenge", bool)
