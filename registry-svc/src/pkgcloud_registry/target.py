"""How registry-svc starts, alone or inside `pkgcloud all`."""

from __future__ import annotations

import logging

from pkgcloud_protos.v1 import registry_pb2_grpc
from pkgcloud_servicekit.audit import AuditJanitor
from pkgcloud_servicekit.grpc_plumbing import GrpcServer
from pkgcloud_servicekit.metrics import MetricsServer
from pkgcloud_servicekit.targets import Runtime, Target

from .core import RegistryCore, StageJanitor
from .outbox import OutboxRelay
from .servicer import SERVICE_NAME, RegistryServicer
from .store import RegistryStore, make_registry_store

log = logging.getLogger(__name__)


class RegistryComponent:
    def __init__(self, store: RegistryStore, relay: OutboxRelay, janitor: StageJanitor, server: GrpcServer | None, metrics: MetricsServer,
                 audit_janitor: AuditJanitor | None = None):
        self.store = store
        self.relay = relay
        self.janitor = janitor
        self.server = server
        self.metrics = metrics
        self.audit_janitor = audit_janitor

    async def stop(self) -> None:
        self.metrics.stop()
        if self.server is not None:
            await self.server.stop()
        await self.janitor.stop()
        if self.audit_janitor is not None:
            await self.audit_janitor.stop()
        await self.relay.stop()
        await self.store.close()


async def start(runtime: Runtime) -> RegistryComponent:
    settings = runtime.settings
    store = make_registry_store(settings)
    await store.open()
    relay = OutboxRelay(store, runtime.bus, settings.outbox_poll_s)
    core = RegistryCore(store, runtime.blobs, settings, on_commit=relay.wake)
    janitor = StageJanitor(core, interval_s=max(1.0, min(60.0, settings.stage_ttl_s / 4)))
    audit_janitor = AuditJanitor(store.purge_audit, settings.audit_retention_days, sweep=store.sweep_audit)
    server: GrpcServer | None = None
    metrics = runtime.metrics_server("registry")
    try:
        server = GrpcServer(
            runtime.listen_address("registry"),
            [(registry_pb2_grpc.add_RegistryServiceServicer_to_server, RegistryServicer(core), SERVICE_NAME)],
        )
        await relay.start()
        await janitor.start()
        await audit_janitor.start()
        await server.start()
        metrics.start()
    except BaseException:
        await RegistryComponent(store, relay, janitor, server, metrics, audit_janitor).stop()
        raise
    return RegistryComponent(store, relay, janitor, server, metrics, audit_janitor)


def _add_commands(sub) -> None:
    from .admin import add_commands

    add_commands(sub)


TARGET = Target(name="registry", start=start, add_commands=_add_commands)
