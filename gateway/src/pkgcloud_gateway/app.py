"""The gateway's application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit.blobstore import BlobStore
from pkgcloud_servicekit.eventbus import EventBus
from pkgcloud_servicekit.settings import Settings

from . import access, access_epoch, api, conda, envs, keys, notebooks, policy, pypi
from . import web as web_ui
from .access_epoch import AccessEpoch
from .clients import Clients
from .credentials import CredentialResolver
from .document_cache import DocumentCache
from .errors import error_middleware
from .observability import add_request_id_header, healthz, metrics, observe_middleware
from .routing import add_route, mount_protocols

log = logging.getLogger(__name__)

PROTOCOL_FACTORIES = {
    "api": api.create_app,
    "conda": conda.create_app,
    "pypi": pypi.create_app,
    "notebooks": notebooks.create_app,
    "envs": envs.create_app,
}


def init_app(settings: Settings, clients: Clients, blobs: BlobStore, *, bus: EventBus | None = None) -> web.Application:
    """The whole HTTP edge. `clients` and `blobs` belong to the caller (opened and closed
    there); `bus`, when given, delivers token revocations to the credential cache."""
    # observe_middleware is outermost so its status, log line and metrics see the final
    # answer error_middleware made of any failure.
    # client_max_size bounds the JSON bodies read whole (it is the root app's that counts);
    # file bytes are streamed by the form endpoint and never held.
    app = web.Application(middlewares=[observe_middleware, error_middleware], client_max_size=8 * 1024**2)
    app[keys.SETTINGS] = settings
    app[keys.CLIENTS] = clients
    app[keys.BLOBS] = blobs
    app[keys.DOCUMENTS] = DocumentCache()
    # one epoch for both caches, shared with the other gateway processes on this data dir
    epoch = AccessEpoch(access_epoch.path_for(settings.data_dir))
    app[keys.ACCESS_EPOCH] = epoch
    app[keys.RESOLVER] = CredentialResolver(clients.auth, ttl_s=settings.credential_cache_ttl_s, epoch=epoch)
    app[policy.ACCESS_CACHE] = policy.AccessCache(ttl_s=settings.credential_cache_ttl_s, epoch=epoch)
    app.on_cleanup.append(_close_epoch)
    app.on_response_prepare.append(add_request_id_header)
    if bus is not None:
        app.cleanup_ctx.append(_revocations(bus))
    add_route(app.router, "GET", "/metrics", metrics, access.PROBE, token_twin=False)
    add_route(app.router, "GET", "/healthz", healthz, access.PROBE, token_twin=False)
    mount_protocols(app, settings, PROTOCOL_FACTORIES)
    web_ui.add_routes(app)
    access.check_every_route(app)  # a route registered without a rule stops the gateway here
    return app


async def _close_epoch(app: web.Application) -> None:
    app[keys.ACCESS_EPOCH].close()


def _revocations(bus: EventBus):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        resolver = app[keys.RESOLVER]

        async def on_event(event: events_pb2.Event) -> None:
            if event.WhichOneof("payload") == "token_revoked":
                resolver.invalidate(event.token_revoked.token_sha256)
            elif event.WhichOneof("payload") == "membership_changed":
                # group changes bite at once too (the TTL bounds it anyway)
                app[policy.ACCESS_CACHE].forget(owner=event.membership_changed.org.lower())
                app[keys.ACCESS_EPOCH].bump()  # and in this host's other gateway processes

        # A change made through this gateway moved the access epoch already (the guard does,
        # access.Rule.changes_access); the event is how a change made through another gateway
        # replica reaches this one. The cache TTL bounds staleness anyway.
        # broadcast: every gateway replica has its own cache, so each needs every event.
        await bus.subscribe("gateway", ["token.revoked", "membership.changed"], on_event, broadcast=True)
        yield

    return ctx
