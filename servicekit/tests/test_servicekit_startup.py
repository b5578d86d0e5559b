"""Start-up against dependencies that are not there yet (issue 12).

A service run alone (`pkgcloud serve --target auth`, a real process) whose RabbitMQ is not
reachable keeps retrying while its gRPC health answers NOT_SERVING, and becomes SERVING once
the broker is reachable; a start that fails for another reason exits non-zero at once.

The "broker" is a TCP port this test binds itself: bound but not listening, it refuses
connections (nobody else can take it meanwhile); later it listens and forwards to the real
RabbitMQ."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
import uuid
from pathlib import Path

import grpc
import pytest
from aiormq.exceptions import AMQPConnectionError, ProbableAuthenticationError
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pkgcloud_servicekit.eventbus.topology import delete_topology
from pkgcloud_servicekit.startup import is_unreachable, retry_unreachable

RABBITMQ_URL = os.environ.get("PKGCLOUD_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
PKGCLOUD = Path(sys.executable).parent / "pkgcloud"


def require_rabbitmq() -> None:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError:
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")


async def health_status(address: str) -> str:
    async with grpc.aio.insecure_channel(address) as ch:
        try:
            resp = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
        except grpc.aio.AioRpcError as e:
            return e.code().name
        return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)


async def wait_for(check, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


class LateBroker:
    """A loopback port bound at once, refusing connections until open() makes it forward
    to the real broker."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server: asyncio.Server | None = None
        self.connections = 0
        self._pipes: set[asyncio.Task] = set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._forward, sock=self.sock)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5672)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        tasks = [asyncio.create_task(pipe(reader, up_writer)), asyncio.create_task(pipe(up_reader, writer))]
        self._pipes.update(tasks)
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pipes.difference_update(tasks)

    async def close(self) -> None:
        for t in list(self._pipes):
            t.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        else:
            self.sock.close()


def service_env(tmp_path: Path, rabbitmq_url: str, tag: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PKGCLOUD_")}
    env.update(
        PKGCLOUD_DATA_DIR=str(tmp_path / "data"),
        PKGCLOUD_GRPC_LISTEN=f"unix:{tmp_path / 'auth.sock'}",
        PKGCLOUD_METRICS_PORT="0",
        PKGCLOUD_BUS="rabbitmq",
        PKGCLOUD_RABBITMQ_URL=rabbitmq_url,
        PKGCLOUD_EVENTS_EXCHANGE=f"pkgcloud-test.{tag}.events",
        PKGCLOUD_EVENTS_QUEUE_PREFIX=f"pkgcloud-test.{tag}",
        PKGCLOUD_LOG_FORMAT="text",
    )
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def service(env: dict[str, str], log_path: Path):
    with open(log_path, "wb") as log:
        proc = await asyncio.create_subprocess_exec(str(PKGCLOUD), "serve", "--target", "auth", env=env,
                                                    stdout=log, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()


@pytest.mark.rabbitmq
async def test_a_service_started_before_its_broker_waits_not_serving_then_serves(tmp_path):
    require_rabbitmq()
    tag = uuid.uuid4().hex[:12]
    broker = LateBroker()
    address = f"unix:{tmp_path / 'auth.sock'}"
    log_path = tmp_path / "auth.log"
    env = service_env(tmp_path, f"amqp://guest:guest@127.0.0.1:{broker.port}/", tag)
    try:
        async with service(env, log_path) as proc:
            await wait_for(lambda: _status_is(address, "NOT_SERVING"), "health NOT_SERVING while the broker is down")
            # it keeps trying (and stays up, not serving) for several attempts
            await wait_for(lambda: _log_has(log_path, "attempt 4,"), "four attempts to reach the broker")
            assert proc.returncode is None, log_path.read_text()
            assert await health_status(address) == "NOT_SERVING"
            assert broker.connections == 0

            await broker.open()
            await wait_for(lambda: _status_is(address, "SERVING"), "health SERVING once the broker is reachable", timeout=60)
            assert broker.connections >= 1
            assert proc.returncode is None

            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0, log_path.read_text()
    finally:
        await broker.close()
        await delete_topology(RABBITMQ_URL, f"pkgcloud-test.{tag}.events", f"pkgcloud-test.{tag}", [])


async def test_a_service_whose_database_is_not_reachable_keeps_retrying_not_serving(tmp_path):
    """MongoDB not there (a port bound here that refuses connections): the store's open is
    retried, the process stays up and says NOT_SERVING. (No MongoDB runs here to make it
    reachable; the broker test above covers the way to SERVING.)"""
    with socket.socket() as refusing:
        refusing.bind(("127.0.0.1", 0))
        port = refusing.getsockname()[1]
        address = f"unix:{tmp_path / 'auth.sock'}"
        log_path = tmp_path / "auth.log"
        env = service_env(tmp_path, "amqp://unused/", uuid.uuid4().hex[:12], PKGCLOUD_BUS="inprocess", PKGCLOUD_METADATA_BACKEND="mongo",
                          PKGCLOUD_MONGO_URL=f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=300&connectTimeoutMS=300")
        async with service(env, log_path) as proc:
            await wait_for(lambda: _status_is(address, "NOT_SERVING"), "health NOT_SERVING while the database is down")
            await wait_for(lambda: _log_has(log_path, "attempt 3,"), "three attempts to reach the database")
            assert "ServerSelectionTimeoutError" in log_path.read_text()
            assert proc.returncode is None
            assert await health_status(address) == "NOT_SERVING"
            # stopped while waiting: SIGTERM ends it (signal handlers come with the started suite)
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) in (0, -signal.SIGTERM), log_path.read_text()


@pytest.mark.rabbitmq
async def test_refused_credentials_exit_non_zero_at_once(tmp_path):
    require_rabbitmq()
    tag = uuid.uuid4().hex[:12]
    log_path = tmp_path / "auth.log"
    env = service_env(tmp_path, "amqp://guest:not-the-password@127.0.0.1:5672/", tag)
    async with service(env, log_path) as proc:
        started = time.monotonic()
        rc = await asyncio.wait_for(proc.wait(), 60)
    assert rc != 0
    assert time.monotonic() - started < 30
    assert "ACCESS_REFUSED" in log_path.read_text()
    assert "retrying" not in log_path.read_text()


async def test_a_configuration_error_exits_non_zero_at_once(tmp_path):
    log_path = tmp_path / "auth.log"
    env = service_env(tmp_path, "amqp://guest:guest@127.0.0.1:1/", uuid.uuid4().hex[:12], PKGCLOUD_BUS="inprocess",
                      PKGCLOUD_METADATA_BACKEND="mongo")  # and no MONGO_URL
    async with service(env, log_path) as proc:
        rc = await asyncio.wait_for(proc.wait(), 60)
    assert rc != 0
    assert "needs PKGCLOUD_MONGO_URL" in log_path.read_text()


async def _status_is(address: str, status: str) -> bool:
    return await health_status(address) == status


async def _log_has(path: Path, text: str) -> bool:
    return path.exists() and text in path.read_text(errors="replace")


# --- which errors mean "not reachable yet" ---------------------------------------------------
def refused() -> OSError:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))  # bound, not listening: connecting is refused
        try:
            socket.create_connection(s.getsockname(), timeout=2).close()
        except OSError as e:
            return e
    raise AssertionError("a bound, not listening port accepted a connection")


@pytest.mark.parametrize(("exc", "unreachable"), [
    (refused(), True),
    (AMQPConnectionError(111, "Connect call failed"), True),
    (ProbableAuthenticationError("ACCESS_REFUSED"), False),
    (socket.gaierror(-2, "Name or service not known"), True),
    (TimeoutError(), True),
    (RuntimeError("PKGCLOUD_METADATA_BACKEND=mongo needs PKGCLOUD_MONGO_URL"), False),
    (PermissionError(13, "Permission denied"), False),
    (ValueError("bad setting"), False),
], ids=["refused", "amqp-connect", "amqp-auth", "dns", "timeout", "config", "permission", "value"])
def test_unreachable_errors_are_told_from_the_rest(exc, unreachable):
    assert is_unreachable(exc) is unreachable


async def test_retry_backs_off_on_unreachable_and_raises_anything_else():
    calls: list[float] = []

    async def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) < 4:
            raise ConnectionRefusedError(111, "refused")
        return "up"

    assert await retry_unreachable(flaky, "test dependency", initial_s=0.02, max_s=0.05) == "up"
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert len(calls) == 4 and all(g >= 0.015 for g in gaps)

    async def broken() -> None:
        calls.append(time.monotonic())
        raise ValueError("not a connection problem")

    calls.clear()
    with pytest.raises(ValueError):
        await retry_unreachable(broken, "test dependency", initial_s=0.02)
    assert len(calls) == 1
