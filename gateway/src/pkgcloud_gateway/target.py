"""The gateway as a pkgcloud target: the aiohttp app on settings.host:port."""

from __future__ import annotations

import logging

from aiohttp import web
from pkgcloud_servicekit.logs import service_var
from pkgcloud_servicekit.targets import Runtime, Target

from .app import init_app
from .clients import PEERS, Clients

log = logging.getLogger(__name__)


class GatewayComponent:
    def __init__(self, runner: web.AppRunner, clients: Clients):
        self.runner = runner
        self.clients = clients

    async def stop(self) -> None:
        try:
            await self.runner.cleanup()
        finally:
            await self.clients.close()


async def start(runtime: Runtime) -> GatewayComponent:
    settings = runtime.settings
    if runtime.mode == "single":
        service_var.set("gateway")
    clients = Clients.open({name: runtime.address(name) for name in PEERS})
    try:
        app = init_app(settings, clients, runtime.blobs, bus=runtime.bus)
        # our own middleware writes the access log (with the request id, tokens redacted)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5)
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.host, settings.port).start()
        except BaseException:
            await runner.cleanup()
            raise
    except BaseException:
        await clients.close()
        raise
    log.info("gateway listening on http://%s:%d (public URL %s)", settings.host, settings.port, settings.effective_public_url())
    return GatewayComponent(runner, clients)


TARGET = Target(name="gateway", start=start, depends=("auth", "registry", "index", "render"))
