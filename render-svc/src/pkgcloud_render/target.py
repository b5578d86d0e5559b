"""How render-svc starts, alone (`pkgcloud serve --target render`) or inside `pkgcloud all`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pkgcloud_protos.v1 import render_pb2_grpc
from pkgcloud_servicekit.grpc_plumbing import GrpcServer
from pkgcloud_servicekit.metrics import MetricsServer
from pkgcloud_servicekit.mongo_db import open_mongo_database
from pkgcloud_servicekit.settings import Settings
from pkgcloud_servicekit.targets import Runtime, Target

from .consumer import RenderEventConsumer
from .core import RenderCore
from .notebooks import NotebookRenders
from .pool import RenderPool
from .servicer import SERVICE_NAME, RenderServicer
from .store import RenderStore

log = logging.getLogger(__name__)


def make_store(settings: Settings) -> tuple[RenderStore, Any]:
    """The configured store, and the Mongo client to close with it (None for SQLite)."""
    if settings.metadata_backend == "mongo":
        from .store.mongo import MongoRenderStore

        db = open_mongo_database(settings, "render")
        return MongoRenderStore(db), db.client
    from .store.sqlite import SqliteRenderStore

    return SqliteRenderStore(settings.sqlite_path("render")), None


@dataclass
class RenderComponent:
    core: RenderCore
    store: RenderStore
    consumer: RenderEventConsumer
    grpc: GrpcServer
    metrics: MetricsServer
    pool: RenderPool
    mongo_client: Any = None

    @property
    def grpc_port(self) -> int:
        return self.grpc.bound_port

    async def stop(self) -> None:
        self.consumer.stop()
        self.metrics.stop()
        await self.grpc.stop()
        self.pool.close()
        await self.store.close()
        if self.mongo_client is not None:
            self.mongo_client.close()


async def start(runtime: Runtime) -> RenderComponent:
    store, mongo_client = make_store(runtime.settings)
    grpc_server: GrpcServer | None = None
    metrics = runtime.metrics_server("render")
    # one worker: two cores are shared with every other service in `pkgcloud all`
    pool = RenderPool(workers=1)
    try:
        await store.open()
        core = RenderCore(store, notebooks=NotebookRenders(runtime.blobs, pool))
        consumer = RenderEventConsumer(runtime.bus, core)
        grpc_server = GrpcServer(
            runtime.listen_address("render"),
            [(render_pb2_grpc.add_RenderServiceServicer_to_server, RenderServicer(core), SERVICE_NAME)],
        )
        await grpc_server.start()
        metrics.start()
        # Last: once subscribed, events flow into the store, so everything else is up.
        await consumer.start()
    except BaseException:
        pool.close()
        metrics.stop()
        if grpc_server is not None:
            await grpc_server.stop(0)
        await store.close()
        if mongo_client is not None:
            mongo_client.close()
        raise
    return RenderComponent(core=core, store=store, consumer=consumer, grpc=grpc_server, metrics=metrics, pool=pool, mongo_client=mongo_client)


TARGET = Target(name="render", start=start)
