"""Fixtures shared by servicekit's tests: every blob store and every event bus, each behind one
parametrised fixture so the contract suites run unchanged against all implementations."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Awaitable, Callable

import pytest
from pkgcloud_servicekit.blobstore import BlobStore
from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore
from pkgcloud_servicekit.blobstore.minio_store import MinioBlobStore
from pkgcloud_servicekit.eventbus import EventBus
from pkgcloud_servicekit.eventbus.inprocess import InProcessEventBus
from pkgcloud_servicekit.eventbus.rabbitmq import RabbitMQEventBus
from pkgcloud_servicekit.eventbus.topology import delete_topology, peek_dead_letters

RABBITMQ_URL = os.environ.get("PKGCLOUD_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
S3_ACCESS_KEY = "pkgcloud-test"
S3_SECRET_KEY = "pkgcloud-test-secret"


# --- blob stores -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """moto's S3 server on a free loopback port, shared by the whole session (buckets are
    unique per test, so tests never see each other's objects)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


def unique_bucket() -> str:
    return f"pkgcloud-test-{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def make_minio_store(s3_endpoint):
    stores: list[MinioBlobStore] = []

    def make(**kwargs) -> MinioBlobStore:
        kwargs.setdefault("bucket", unique_bucket())
        store = MinioBlobStore(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, **kwargs)
        stores.append(store)
        return store

    yield make
    for store in stores:
        await store.close()


@pytest.fixture(params=["filesystem", "minio"])
async def blob_store(request, tmp_path) -> BlobStore:
    if request.param == "filesystem":
        store: BlobStore = FilesystemBlobStore(tmp_path / "blobs")
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        store = MinioBlobStore(endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, unique_bucket())
    yield store
    await store.close()


@pytest.fixture
async def second_blob_store(blob_store, request) -> BlobStore:
    """Another store object over the same place as blob_store, as another replica holds."""
    if isinstance(blob_store, FilesystemBlobStore):
        yield FilesystemBlobStore(blob_store.root)
        return
    assert isinstance(blob_store, MinioBlobStore)
    other = MinioBlobStore(request.getfixturevalue("s3_endpoint"), S3_ACCESS_KEY, S3_SECRET_KEY, blob_store.bucket)
    yield other
    await other.close()


# --- event buses -----------------------------------------------------------------------
def _rabbitmq_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


class BusHarness:
    """Creates buses that share one (per-test, uniquely named) topology and reads what they
    dead-lettered, the same way for every implementation."""

    kind: str

    async def new_bus(self) -> EventBus:
        raise NotImplementedError

    async def dead_letter_ids(self, consumer: str) -> list[str]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class InProcessHarness(BusHarness):
    kind = "inprocess"

    def __init__(self) -> None:
        # One process, one bus: every "process" of a test is the same instance.
        self.bus = InProcessEventBus(max_attempts=3, retry_delay_s=0.01)

    async def new_bus(self) -> EventBus:
        await self.bus.start()
        return self.bus

    async def dead_letter_ids(self, consumer: str) -> list[str]:
        return [d.event.id for d in self.bus.dead_letters if d.consumer == consumer]

    async def close(self) -> None:
        await self.bus.close()


class RabbitMQHarness(BusHarness):
    kind = "rabbitmq"
    url = RABBITMQ_URL

    def __init__(self, partitions: int = 0) -> None:
        tag = uuid.uuid4().hex[:12]
        self.partitions = partitions
        self.exchange = f"pkgcloud-test.{tag}.events"
        self.queue_prefix = f"pkgcloud-test.{tag}"
        self.buses: list[RabbitMQEventBus] = []
        self.tag = tag

    def make_bus(self) -> RabbitMQEventBus:
        bus = RabbitMQEventBus(
            RABBITMQ_URL,
            exchange=self.exchange,
            queue_prefix=self.queue_prefix,
            max_attempts=3,
            retry_delay_s=0.02,
            reconnect_interval_s=0.3,
            connection_name=f"pkgcloud-test-{self.tag}-{len(self.buses)}",
            partitions=self.partitions,
            rebalance_interval_s=0.1,
        )
        self.buses.append(bus)
        return bus

    async def new_bus(self) -> EventBus:
        bus = self.make_bus()
        await bus.start()
        return bus

    async def dead_letter_ids(self, consumer: str) -> list[str]:
        return [p.event.id for p in await peek_dead_letters(RABBITMQ_URL, self.queue_prefix, consumer)]

    async def close(self) -> None:
        consumers: set[str] = set()
        for bus in self.buses:
            consumers |= bus.consumers
            await bus.close()
        await delete_topology(RABBITMQ_URL, self.exchange, self.queue_prefix, consumers)


@pytest.fixture(params=["inprocess", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq),
                        pytest.param("rabbitmq-partitioned", marks=pytest.mark.rabbitmq)])
async def bus_harness(request) -> BusHarness:
    if request.param.startswith("rabbitmq"):
        if not _rabbitmq_reachable():
            pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
        # partitioned: every consumer split by owner into 4 partitions (issue 12)
        harness: BusHarness = RabbitMQHarness(partitions=4 if request.param.endswith("partitioned") else 0)
    else:
        harness = InProcessHarness()
    yield harness
    await harness.close()


@pytest.fixture
async def rabbitmq_harness() -> RabbitMQHarness:
    if not _rabbitmq_reachable():
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    harness = RabbitMQHarness()
    yield harness
    await harness.close()


@pytest.fixture
def drop_rabbitmq_connection():
    return _close_rabbitmq_connection


@pytest.fixture
def wait_until():
    return _eventually


def _close_rabbitmq_connection(connection_name: str) -> int:
    """Make the broker drop the connections carrying this client-provided name (like a broker
    restart would, but without disturbing anybody else's connections). Returns how many."""
    if shutil.which("rabbitmqctl") is None or os.geteuid() != 0:
        pytest.skip("needs rabbitmqctl run as root")
    listing = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    marker = f'{{"connection_name","{connection_name}"}}'
    closed = 0
    for line in listing.splitlines():
        if marker in line:
            pid = line.split("\t", 1)[0]
            subprocess.run(
                ["rabbitmqctl", "close_connection", pid, "pkgcloud test: simulated broker failure"],
                capture_output=True, text=True, timeout=60, check=True,
            )
            closed += 1
    return closed


async def _eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll until check() is true (deliveries through a broker are asynchronous)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)
