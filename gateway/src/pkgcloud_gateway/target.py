"""The gateway as a pkgcloud target: the aiohttp app on settings.host:port."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import subprocess
import sys

from aiohttp import web
from pkgcloud_servicekit import listening
from pkgcloud_servicekit.logs import service_var
from pkgcloud_servicekit.targets import Runtime, Target

from .app import init_app
from .clients import PEERS, Clients

log = logging.getLogger(__name__)


class GatewayComponent:
    def __init__(self, runner: web.AppRunner, clients: Clients, workers: list[subprocess.Popen], watchdog: asyncio.Task | None):
        self.runner = runner
        self.clients = clients
        self.workers = workers
        self.watchdog = watchdog

    async def stop(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
        for proc in self.workers:
            proc.terminate()
        try:
            await self.runner.cleanup()
        finally:
            await self.clients.close()
            for proc in self.workers:
                await asyncio.to_thread(_reap, proc)


def _reap(proc: subprocess.Popen) -> None:
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _start_workers(runtime: Runtime) -> list[subprocess.Popen]:
    """The extra gateway processes: the same target, bound to the same port, reaching the
    services at the addresses this process uses (unix sockets in all-in-one)."""
    settings = runtime.settings
    workers = []
    for i in range(1, settings.gateway_process_count()):
        env = dict(os.environ)
        env.update({f"PKGCLOUD_{name.upper()}_ADDR": runtime.address(name) for name in PEERS})
        env["PKGCLOUD_GATEWAY_WORKER_INDEX"] = str(i)
        env["PKGCLOUD_DATA_DIR"] = str(settings.data_dir.resolve())
        # the port this process bound (the one it got, for a port of 0); it holds it, so the
        # workers' SO_REUSEPORT binds join it and nobody else can take it meanwhile
        env["PKGCLOUD_PORT"] = str(settings.port)
        env.pop("PKGCLOUD_ADDRESS_FILE", None)  # the first process reports for all of them
        cmd = [sys.executable, "-m", "pkgcloud_servicekit.cli", "serve", "--target", "gateway"]
        workers.append(subprocess.Popen(cmd, env=env))
    return workers


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


async def _exit_with_parent(parent: int) -> None:
    # A worker must not outlive the process that started it (and owns the port's purpose).
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    log.warning("gateway worker: parent %d is gone, exiting", parent)
    os._exit(0)


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
            reuse = settings.gateway_process_count() > 1
            await web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse or None).start()
        except BaseException:
            await runner.cleanup()
            raise
    except BaseException:
        await clients.close()
        raise
    # a port of 0 got a free one: from here on the settings (banner, workers) name that one
    settings.port = runner.addresses[0][1]
    # What start-up built (modules, templates, route tables, clients) lives as long as the
    # process: out of the collector's sight, so its full passes do not walk it again and
    # again under load
    gc.freeze()
    listening.record_http(f"http://{_url_host(settings.host)}:{settings.port}")
    log.info("gateway listening on http://%s:%d (public URL %s)", settings.host, settings.port, settings.effective_public_url())
    workers: list[subprocess.Popen] = []
    watchdog = None
    if settings.gateway_worker_index:
        watchdog = asyncio.get_running_loop().create_task(_exit_with_parent(os.getppid()))
    elif settings.gateway_process_count() > 1:
        workers = _start_workers(runtime)
        log.info("started %d more gateway processes on the same port", len(workers))
    return GatewayComponent(runner, clients, workers, watchdog)


TARGET = Target(name="gateway", start=start, depends=("auth", "registry", "index", "render"))
