"""How auth-svc starts, alone (`pkgcloud serve --target auth`) or inside `pkgcloud all`."""

from __future__ import annotations

from pkgcloud_protos.v1.auth_pb2_grpc import add_AuthServiceServicer_to_server
from pkgcloud_servicekit.audit import AuditJanitor
from pkgcloud_servicekit.grpc_plumbing import GrpcServer
from pkgcloud_servicekit.metrics import MetricsServer
from pkgcloud_servicekit.targets import Runtime, Target

from .admin import add_commands
from .core import AuthCore
from .servicer import AuthServiceServicer
from .store import AuthStore, make_auth_store


class AuthComponent:
    def __init__(self, server: GrpcServer, store: AuthStore, core: AuthCore, metrics: MetricsServer, janitor: AuditJanitor):
        self.server = server
        self.store = store
        self.core = core
        self.metrics = metrics
        self.janitor = janitor

    async def stop(self) -> None:
        self.metrics.stop()
        try:
            await self.server.stop()
        finally:
            await self.janitor.stop()
            await self.store.close()


async def start(runtime: Runtime) -> AuthComponent:
    store = make_auth_store(runtime.settings)
    await store.open()
    try:
        core = AuthCore(store, runtime.bus)
        server = GrpcServer(
            runtime.listen_address("auth"),
            [(add_AuthServiceServicer_to_server, AuthServiceServicer(core), "pkgcloud.v1.AuthService")],
        )
        await server.start()
    except BaseException:
        await store.close()
        raise
    janitor = AuditJanitor(store.purge_audit, runtime.settings.audit_retention_days, sweep=store.sweep_audit)
    await janitor.start()
    metrics = runtime.metrics_server("auth")
    metrics.start()
    return AuthComponent(server, store, core, metrics, janitor)


TARGET = Target(name="auth", start=start, add_commands=add_commands)
