"""How index-svc starts, alone (`pkgcloud serve --target index`) or inside `pkgcloud all`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pkgcloud_protos.v1 import index_pb2_grpc
from pkgcloud_servicekit.grpc_plumbing import GrpcServer
from pkgcloud_servicekit.metrics import MetricsServer
from pkgcloud_servicekit.mongo_db import open_mongo_database
from pkgcloud_servicekit.settings import Settings
from pkgcloud_servicekit.targets import Runtime, Target

from .conda.publisher import CondaIndexPublisher
from .consumer import IndexEventConsumer
from .core import IndexCore
from .pypi import PypiIndexPublisher
from .servicer import SERVICE_NAME, IndexServicer
from .store import IndexStore

log = logging.getLogger(__name__)


def _add_commands(sub) -> None:
    from .conda.rebuild import add_commands as conda_commands

    conda_commands(sub)


def make_store(settings: Settings) -> tuple[IndexStore, Any]:
    """The configured store, and the Mongo client to close with it (None for SQLite)."""
    if settings.metadata_backend == "mongo":
        from .store.mongo import MongoIndexStore

        db = open_mongo_database(settings, "index")
        return MongoIndexStore(db), db.client
    from .store.sqlite import SqliteIndexStore

    return SqliteIndexStore(settings.sqlite_path("index")), None


@dataclass
class IndexComponent:
    core: IndexCore
    store: IndexStore
    consumer: IndexEventConsumer
    grpc: GrpcServer
    metrics: MetricsServer
    mongo_client: Any = None

    @property
    def grpc_port(self) -> int:
        return self.grpc.bound_port

    async def stop(self) -> None:
        self.consumer.stop()
        self.metrics.stop()
        await self.grpc.stop()
        await self.store.close()
        if self.mongo_client is not None:
            self.mongo_client.close()


async def start(runtime: Runtime) -> IndexComponent:
    store, mongo_client = make_store(runtime.settings)
    grpc_server: GrpcServer | None = None
    metrics = runtime.metrics_server("index")
    try:
        await store.open()
        publishers: list = []
        publishers.append(PypiIndexPublisher(store, runtime.blobs))
        publishers.append(CondaIndexPublisher(store, runtime.blobs))
        core = IndexCore(store, publishers=publishers)
        consumer = IndexEventConsumer(runtime.bus, core)
        grpc_server = GrpcServer(
            runtime.listen_address("index"),
            [(index_pb2_grpc.add_IndexServiceServicer_to_server, IndexServicer(core), SERVICE_NAME)],
        )
        await grpc_server.start()
        metrics.start()
        for publisher in publishers:
            await publisher.start()  # finish what a crash left unpublished, before new events
        # Last: once subscribed, events flow into the store, so everything else is up.
        await consumer.start()
    except BaseException:
        metrics.stop()
        if grpc_server is not None:
            await grpc_server.stop(0)
        await store.close()
        if mongo_client is not None:
            mongo_client.close()
        raise
    return IndexComponent(core=core, store=store, consumer=consumer, grpc=grpc_server, metrics=metrics, mongo_client=mongo_client)


TARGET = Target(name="index", start=start, add_commands=_add_commands)
