"""Start-up that waits for its dependencies instead of dying on them.

A service started before RabbitMQ, its database or a peer is reachable (containers starting
together, a broker restarting) retries with exponential backoff while its gRPC health
answers NOT_SERVING, and becomes SERVING once it is up. A start that fails for any other
reason (bad configuration, refused credentials, a failing migration) is raised at once, so
the process exits non-zero and the operator sees why (docs/adr/0010).
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from . import listening

log = logging.getLogger(__name__)

T = TypeVar("T")

INITIAL_DELAY_S = 0.2
MAX_DELAY_S = 10.0


def is_unreachable(exc: BaseException) -> bool:
    """True when the error says "the other side is not there (yet)", not "it said no"."""
    try:
        from aiormq.exceptions import ProbableAuthenticationError

        if isinstance(exc, ProbableAuthenticationError):
            return False  # the broker is there and refused our credentials
    except ImportError:  # pragma: no cover - aio-pika is a dependency
        pass
    if isinstance(exc, (ConnectionError, socket.gaierror, TimeoutError)):
        return True  # refused, reset, unknown host yet, timed out; AMQPConnectionError too
    try:
        from pymongo.errors import ConnectionFailure

        if isinstance(exc, ConnectionFailure):
            return True  # no server selectable / connection lost (auth errors are OperationFailure)
    except ImportError:  # pragma: no cover
        pass
    try:
        import grpc

        if isinstance(exc, grpc.aio.AioRpcError) and exc.code() == grpc.StatusCode.UNAVAILABLE:
            return True
    except ImportError:  # pragma: no cover
        pass
    return False


async def retry_unreachable(start: Callable[[], Awaitable[T]], what: str, *, initial_s: float = INITIAL_DELAY_S,
                            max_s: float = MAX_DELAY_S) -> T:
    """await start(), again and again while it fails with an unreachable dependency,
    sleeping initial_s, 2*initial_s, ... up to max_s (with jitter, so replicas started
    together do not retry in lockstep). Any other error is raised at once."""
    delay = initial_s
    attempt = 1
    while True:
        try:
            return await start()
        except Exception as e:
            if not is_unreachable(e):
                raise
            log.warning("%s not reachable yet (%s: %s); attempt %d, retrying in %.1fs", what, type(e).__name__, e, attempt, delay,
                        extra={"fields": {"dependency": what, "attempt": attempt}})
        await asyncio.sleep(delay * random.uniform(0.8, 1.2))
        delay = min(max_s, delay * 2)
        attempt += 1


class StartupHealth:
    """A gRPC server with only the health service, answering NOT_SERVING on the service's
    address while its dependencies are awaited. A TCP port is shared with the service's own
    server (SO_REUSEPORT, gRPC's default on Linux) until that one is up; a unix socket is
    kept until the process stops, since stopping a gRPC server unlinks its socket path, which
    by then is the service's."""

    def __init__(self, address: str, service_names: list[str]):
        import grpc

        self.server = grpc.aio.server()
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names = service_names
        self.bound_port = self.server.add_insecure_port(address)
        self.bound_address = listening.grpc_bound_address(address, self.bound_port)
        self.is_unix = address.startswith("unix:")
        self._stopped = False

    async def start(self) -> None:
        await self.server.start()
        for name in ["", *self.service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        log.info("waiting for dependencies; health NOT_SERVING on %s", self.bound_address)

    async def service_started(self) -> None:
        if not self.is_unix:
            await self.stop()

    async def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            await self.server.stop(0)
