"""One code base, many targets (as Loki's -target): each service registers a Target through
the `pkgcloud.targets` entry point group; `pkgcloud all` starts them all in one process in
dependency order, `pkgcloud serve --target X` starts one. The service code is the same in
both; only addresses, the bus and the stores' wiring differ (see Runtime).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Protocol

from . import listening
from .blobstore import BlobStore, make_blob_store
from .eventbus import EventBus, make_event_bus
from .metrics import MetricsServer
from .settings import DEFAULT_GRPC_PORTS, DEFAULT_METRICS_PORTS, Settings
from .startup import StartupHealth, retry_unreachable

log = logging.getLogger(__name__)

SERVICES = ("auth", "registry", "index", "render")


class Component(Protocol):
    async def stop(self) -> None: ...


@dataclass(frozen=True)
class Target:
    name: str
    start: Callable[[Runtime], Awaitable[Component]]
    depends: tuple[str, ...] = ()
    #: optional: adds `pkgcloud <command>` sub-commands (e.g. auth's `admin create-user`)
    add_commands: Callable[[argparse._SubParsersAction], None] | None = None


@dataclass
class Runtime:
    """What a starting service gets: settings, the shared bus and blob store, peer addresses."""

    settings: Settings
    mode: str  # "all" | "single"
    bus: EventBus
    blobs: BlobStore
    addresses: dict[str, str] = field(default_factory=dict)

    def address(self, service: str) -> str:
        """gRPC address to reach a peer service."""
        configured = getattr(self.settings, f"{service}_addr", "")
        addr = self.addresses.get(service) or configured
        if not addr:
            addr = f"127.0.0.1:{DEFAULT_GRPC_PORTS[service]}"
        return addr

    def listen_address(self, service: str) -> str:
        if self.mode == "all":
            return self.address(service)
        return self.settings.grpc_listen or f"0.0.0.0:{DEFAULT_GRPC_PORTS[service]}"

    def metrics_port(self, service: str) -> int | None:
        """The port of this service's own /metrics server (0: a free one), None for none."""
        if self.mode == "all":
            return None  # one process: the gateway's /metrics has every service's series
        if self.settings.metrics_port >= 0:
            return self.settings.metrics_port
        return DEFAULT_METRICS_PORTS.get(service)

    def metrics_server(self, service: str) -> MetricsServer:
        return MetricsServer(self.metrics_port(service), service)


def discover_targets() -> dict[str, Target]:
    found: dict[str, Target] = {}
    for ep in entry_points(group="pkgcloud.targets"):
        target = ep.load()
        found[target.name] = target
    return found


def start_order(targets: dict[str, Target], wanted: list[str]) -> list[str]:
    order: list[str] = []

    def visit(name: str, stack: tuple[str, ...] = ()) -> None:
        if name in order:
            return
        if name in stack:
            raise RuntimeError(f"dependency cycle: {' -> '.join(stack + (name,))}")
        if name not in targets:
            raise RuntimeError(f"unknown target {name!r}; known: {', '.join(sorted(targets))}")
        for dep in targets[name].depends:
            if dep in wanted:
                visit(dep, stack + (name,))
        order.append(name)

    for name in wanted:
        visit(name)
    return order


class Suite:
    """Started targets, stopped in reverse order."""

    def __init__(self, runtime: Runtime, components: list[tuple[str, Component]]):
        self.runtime = runtime
        self.components = components

    async def stop(self) -> None:
        for name, comp in reversed(self.components):
            try:
                await comp.stop()
            except Exception:
                log.exception("stopping %s failed", name)
        await self.runtime.bus.close()
        await self.runtime.blobs.close()


async def start_suite(settings: Settings, wanted: list[str], mode: str) -> Suite:
    targets = discover_targets()
    order = start_order(targets, wanted)
    addresses: dict[str, str] = {}
    if mode == "all":
        run_dir = settings.data_dir.resolve() / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        for svc in SERVICES:
            addresses[svc] = f"unix:{run_dir / (svc + '.sock')}"
    bus = make_event_bus(settings)
    runtime = Runtime(settings=settings, mode=mode, bus=bus, blobs=make_blob_store(settings), addresses=addresses)
    components: list[tuple[str, Component]] = []
    suite = Suite(runtime, components)
    try:
        # Dependencies not reachable yet are waited for (issue 12): health says NOT_SERVING
        # meanwhile; any other start error is raised, so the process exits non-zero.
        startup = await _startup_health(settings, order, mode)
        if startup is not None:
            components.append(("startup-health", startup))
        await retry_unreachable(bus.start, "event bus")
        for name in order:
            log.info("starting %s", name)
            components.append((name, await retry_unreachable(lambda name=name: targets[name].start(runtime), f"{name}'s dependencies")))
        if startup is not None:
            await startup.service_started()
    except BaseException:
        await suite.stop()
        raise
    return suite


async def _startup_health(settings: Settings, order: list[str], mode: str) -> StartupHealth | None:
    """A gRPC service run alone answers NOT_SERVING on its address from the first moment;
    its own server takes over once it is up (a port of 0 becomes the port bound here)."""
    if mode != "single" or len(order) != 1 or order[0] not in SERVICES:
        return None
    svc = order[0]
    address = settings.grpc_listen or f"0.0.0.0:{DEFAULT_GRPC_PORTS[svc]}"
    startup = StartupHealth(address, [f"pkgcloud.v1.{svc.capitalize()}Service"])
    if not startup.is_unix and address.rpartition(":")[2] == "0":
        settings.grpc_listen = f"{address.rpartition(':')[0]}:{startup.bound_port}"
    await startup.start()
    return startup


async def run_forever(settings: Settings, wanted: list[str], mode: str, on_started: Callable[[Suite], None] | None = None) -> None:
    import signal

    suite = await start_suite(settings, wanted, mode)
    if settings.address_file:
        listening.write_report(settings.address_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if on_started:
        on_started(suite)
    await stop.wait()
    log.info("stopping")
    await suite.stop()
