"""Two index-svc replicas on RabbitMQ (issue 12): both consume one exchange with partitions
by owner, sharing one SQLite index store (WAL) and one blob folder. 100 uploads interleaved
with 20 upload-then-remove pairs over 20 owners, one replica killed mid-way: the other takes
its owners, nothing removed comes back, and every owner's channel equals a rebuild from what
the registry would hold. Run-unique exchange and queues, deleted afterwards."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid

import pytest
from pkgcloud_index.conda.publisher import CondaIndexPublisher
from pkgcloud_index.consumer import CONSUMER_NAME, IndexEventConsumer
from pkgcloud_index.core import IndexCore
from pkgcloud_index.store.sqlite import SqliteIndexStore
from pkgcloud_protos.v1 import common_pb2, events_pb2
from pkgcloud_servicekit import published
from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore
from pkgcloud_servicekit.eventbus.rabbitmq import RabbitMQEventBus
from pkgcloud_servicekit.eventbus.topology import delete_topology, peek_dead_letters
from pkgcloud_servicekit.events import new_event

from .test_index_conda import _snapshot

pytestmark = pytest.mark.rabbitmq

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
OWNERS = [f"owner{i:02d}" for i in range(20)]


def _rabbitmq_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
        return True
    except OSError:
        return False


def _record(f, owner: str) -> common_pb2.FileRecord:
    return common_pb2.FileRecord(owner=owner, package=f.package, version=f.version, basename=f.basename, type="conda",
                                 subdir=f.subdir, labels=list(f.labels), size=f.size, sha256=f.sha256, attrs_json=f.attrs_json,
                                 upload_time_ms=f.upload_time_ms, package_public=f.public)


class Replica:
    def __init__(self, tmp_path, exchange: str, prefix: str, name: str):
        self.store = SqliteIndexStore(tmp_path / "index.sqlite3")
        self.blobs = FilesystemBlobStore(tmp_path / "blobs")
        self.bus = RabbitMQEventBus(RABBITMQ_URL, exchange=exchange, queue_prefix=prefix, max_attempts=5, retry_delay_s=0.5,
                                    partitions=4, rebalance_interval_s=0.2, connection_name=f"pkgcloud-test-{prefix}-{name}")
        self.core = IndexCore(self.store, publishers=[CondaIndexPublisher(self.store, self.blobs)])
        self.consumer = IndexEventConsumer(self.bus, self.core)

    async def start(self) -> None:
        await self.store.open()
        await self.consumer.start()

    def held(self) -> set[int]:
        return set(self.bus._partitioned[0].held) if self.bus._partitioned else set()

    def kill(self) -> None:
        """As a SIGKILL looks to the others: its partitions' broker connection closes with
        unacked deliveries in it and it claims nothing more. (A handler it was running
        finishes in this process, as a stale replica's would: its ack is lost, so the event
        is redelivered, and its document writes meet the generation check.)"""
        part = self.bus._partitioned[0]
        part._closed = True
        asyncio.ensure_future(part._drop_connection())

    async def close(self) -> None:
        self.consumer.stop()
        await self.bus.close()
        await self.store.close()


async def _eventually(check, timeout: float, what: str, describe=None) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            detail = await describe() if describe is not None else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what} {detail}")
        await asyncio.sleep(0.05)


async def test_two_replicas_one_killed_every_index_equals_the_rebuild(tmp_path, synthetic_conda_file):
    if not _rabbitmq_reachable():
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    tag = uuid.uuid4().hex[:12]
    exchange, prefix = f"pkgcloud-test.{tag}.events", f"pkgcloud-test.{tag}"
    publisher = RabbitMQEventBus(RABBITMQ_URL, exchange=exchange, queue_prefix=prefix)
    a, b = Replica(tmp_path, exchange, prefix, "a"), Replica(tmp_path, exchange, prefix, "b")
    try:
        await a.start()
        await b.start()
        await publisher.start()
        await _eventually(lambda: _true(len(a.held()) == len(b.held()) == 2), 15, "the partitions split")

        # per owner: 5 uploads, and 1 upload removed right after; interleaved over owners
        expected: dict[str, list] = {}
        rounds: list[list[events_pb2.Event]] = [[] for _ in range(6)]
        for i, owner in enumerate(OWNERS):
            kept = [synthetic_conda_file(f"pkg{i}", f"1.{n}", upload=n) for n in range(5)]
            doomed = synthetic_conda_file(f"pkg{i}", "0.doomed", upload=9)
            expected[owner] = kept
            for n, f in enumerate(kept):
                rounds[n].append(new_event(owner, file_committed=events_pb2.FileCommitted(file=_record(f, owner))))
            pair_round = i % 5
            rounds[pair_round].append(new_event(owner, file_committed=events_pb2.FileCommitted(file=_record(doomed, owner))))
            rounds[pair_round].append(new_event(owner, file_removed=events_pb2.FileRemoved(file=_record(doomed, owner))))
        events = [e for r in rounds for e in r]
        assert len(events) == 140
        for n, event in enumerate(events):
            await publisher.publish(event)
            if n == 60:
                b.kill()
        await _eventually(lambda: _true(a.held() == {0, 1, 2, 3}), 15, "replica a holding every partition")

        async def all_applied() -> bool:
            statuses = {s.owner: s.events_applied for s in await a.store.owner_statuses()}
            return statuses == {owner: 7 for owner in OWNERS}

        async def applied_and_parked() -> str:
            statuses = {s.owner: s.events_applied for s in await a.store.owner_statuses()}
            parked = await peek_dead_letters(RABBITMQ_URL, prefix, CONSUMER_NAME)
            return f"applied={statuses} parked={[(p.event.owner, p.event.type, p.error) for p in parked]}"

        await _eventually(all_applied, 120, "every event applied once", applied_and_parked)

        async def all_published() -> bool:
            for owner in OWNERS:
                try:
                    state = json.loads(await a.blobs.read_bytes(published.conda_state_key(owner)))
                except Exception:
                    return False
                if state.get("events_applied") != 7:
                    return False
            return True

        await _eventually(all_published, 120, "every owner published at its last event")
        for owner, kept in expected.items():
            files = await a.store.list_files(owner)
            assert sorted(f.basename for f in files) == sorted(f.basename for f in kept), owner
            repodata = json.loads(published.document_body(await a.blobs.read_bytes(published.conda_document_key(owner, "public", "main", "linux-64/repodata.json"))))
            assert sorted(repodata["packages.conda"]) == sorted(f.fn for f in kept), owner  # the removed one did not come back
            fresh = FilesystemBlobStore(tmp_path / f"rebuild-{owner}")
            for view in published.VIEWS:
                await fresh.put_bytes(published.conda_manifest_key(owner, view), await a.blobs.read_bytes(published.conda_manifest_key(owner, view)))
            await CondaIndexPublisher(None, fresh).rebuild_from(owner, kept)  # type: ignore[arg-type]
            ours, theirs = await _snapshot(a.blobs, owner), await _snapshot(fresh, owner)
            documents = {k for k in ours | theirs if "/shards/" not in k}
            assert {k for k in documents if ours.get(k) != theirs.get(k)} == set(), owner
    finally:
        for r in (a, b):
            await r.close()
        await publisher.close()
        await delete_topology(RABBITMQ_URL, exchange, prefix, [CONSUMER_NAME])


async def _true(value: bool) -> bool:
    return value
