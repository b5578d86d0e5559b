"""index-svc scale-out on RabbitMQ: 1 replica against 2, side by side in one run.

Each replica is a real process (this script with --replica) running index-svc's consumer,
core and conda publisher, with PKGCLOUD_EVENTS_PARTITIONS-style partitions on a run-unique
exchange; the replicas share one SQLite index store (WAL) and one blob folder, as on one
host. Events are conda file.committed events as registry-svc publishes them (the registry
and gateway are not in the loop: this measures index-svc).

- throughput: --events events for 20 owners published at once; events applied per second
  from the first publish until the store has applied them all;
- latency: a steady stream (--rate events/s for --seconds) of uploads; for each, the time
  from publish until its file is in the owner's public repodata.json (polled every 2 ms).

    .venv/bin/python bench/scale_out.py [--events 1000] [--rate 20] [--seconds 15] [--partitions 8]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

RABBITMQ_URL = os.environ.get("PKGCLOUD_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
OWNERS = [f"owner{i:02d}" for i in range(20)]


def conda_record(owner: str, n: int):
    from pkgcloud_protos.v1 import common_pb2

    name, version = f"pkg{n % 7}", f"1.{n}"
    basename = f"linux-64/{name}-{version}-0.conda"
    sha256 = hashlib.sha256(f"{owner}/{basename}".encode()).hexdigest()
    attrs = {"name": name, "version": version, "build": "0", "build_number": 0, "depends": ["python >=3.9"], "license": "MIT",
             "subdir": "linux-64", "timestamp": 1_700_000_000_000 + n, "md5": hashlib.md5(sha256.encode()).hexdigest(),
             "sha256": sha256, "size": 1000 + n}
    return common_pb2.FileRecord(owner=owner, package=name, version=version, basename=basename, type="conda", subdir="linux-64",
                                 labels=["main"], size=1000 + n, sha256=sha256, attrs_json=json.dumps(attrs, sort_keys=True),
                                 upload_time_ms=1_700_000_000_000 + n, package_public=True)


async def run_replica(args) -> None:
    from pkgcloud_index.conda.publisher import CondaIndexPublisher
    from pkgcloud_index.consumer import IndexEventConsumer
    from pkgcloud_index.core import IndexCore
    from pkgcloud_index.store.sqlite import SqliteIndexStore
    from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore
    from pkgcloud_servicekit.eventbus.rabbitmq import RabbitMQEventBus

    store = SqliteIndexStore(Path(args.dir) / "index.sqlite3")
    blobs = FilesystemBlobStore(Path(args.dir) / "blobs")
    bus = RabbitMQEventBus(RABBITMQ_URL, exchange=args.exchange, queue_prefix=args.prefix, partitions=args.partitions,
                           rebalance_interval_s=0.2)
    await store.open()
    consumer = IndexEventConsumer(bus, IndexCore(store, publishers=[CondaIndexPublisher(store, blobs)]))
    await consumer.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    consumer.stop()
    await bus.close()
    await store.close()


class Replicas:
    def __init__(self, n: int, args, workdir: Path):
        self.tag = uuid.uuid4().hex[:10]
        self.exchange, self.prefix = f"pkgcloud-bench.{self.tag}.events", f"pkgcloud-bench.{self.tag}"
        self.dir = workdir / f"replicas-{n}"
        self.dir.mkdir()
        self.n, self.args = n, args
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        for _ in range(self.n):
            p = subprocess.Popen(
                [sys.executable, __file__, "--replica", "--dir", str(self.dir), "--exchange", self.exchange, "--prefix", self.prefix,
                 "--partitions", str(self.args.partitions)],
                stdout=subprocess.PIPE, text=True, start_new_session=True,
            )
            self.procs.append(p)
            if p.stdout.readline().strip() != "ready":  # the first one creates the schema alone
                raise RuntimeError("a replica failed to start")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def applied(self) -> int:
        db = sqlite3.connect(f"file:{self.dir / 'index.sqlite3'}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute("SELECT COALESCE(SUM(events_applied), 0) FROM owner_status").fetchone()[0]
        finally:
            db.close()


async def wait_balanced(replicas: Replicas, timeout: float = 30) -> None:
    import aio_pika
    from pkgcloud_servicekit.eventbus.rabbitmq import partition_queue_names

    conn = await aio_pika.connect(RABBITMQ_URL)
    try:
        ch = await conn.channel()
        deadline = time.monotonic() + timeout
        while True:
            counts = []
            for k in range(replicas.args.partitions):
                q = await ch.declare_queue(partition_queue_names(replicas.prefix, "index", k)[0], passive=True)
                counts.append(q.declaration_result.consumer_count)
            if all(c == 1 for c in counts):
                members = await ch.declare_queue(f"{replicas.prefix}.index.members", passive=True)
                if members.declaration_result.consumer_count == replicas.n:
                    # every replica holds its share once each has had a pass with the final count
                    await asyncio.sleep(1.0)
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"partitions not held: {counts}")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def measure(replicas: Replicas, args) -> dict:
    from pkgcloud_protos.v1 import events_pb2
    from pkgcloud_servicekit import published
    from pkgcloud_servicekit.eventbus.rabbitmq import RabbitMQEventBus
    from pkgcloud_servicekit.events import new_event

    publisher = RabbitMQEventBus(RABBITMQ_URL, exchange=replicas.exchange, queue_prefix=replicas.prefix)
    await publisher.start()
    try:
        await wait_balanced(replicas)
        # throughput
        events = [new_event(owner, file_committed=events_pb2.FileCommitted(file=conda_record(owner, n)))
                  for n in range(args.events // len(OWNERS)) for owner in OWNERS]
        t0 = time.perf_counter()
        for e in events:
            await publisher.publish(e)
        while replicas.applied() < len(events):
            await asyncio.sleep(0.02)
        throughput = len(events) / (time.perf_counter() - t0)
        # latency under a steady stream
        base = args.events // len(OWNERS)
        latencies: list[float] = []
        pending: list[asyncio.Task] = []

        async def visible(owner: str, fn: str, t_pub: float) -> None:
            path = replicas.dir / "blobs" / published.conda_document_key(owner, "public", "main", "linux-64/repodata.json")
            while True:
                try:
                    if fn in json.loads(published.document_body(await asyncio.to_thread(path.read_bytes))).get("packages.conda", {}):
                        latencies.append(time.perf_counter() - t_pub)
                        return
                except (FileNotFoundError, ValueError):
                    pass
                await asyncio.sleep(0.002)

        interval = 1.0 / args.rate
        start = time.perf_counter()
        for i in range(int(args.rate * args.seconds)):
            owner = OWNERS[i % len(OWNERS)]
            rec = conda_record(owner, base + i)
            t_pub = time.perf_counter()
            await publisher.publish(new_event(owner, file_committed=events_pb2.FileCommitted(file=rec)))
            pending.append(asyncio.ensure_future(visible(owner, rec.basename.split("/", 1)[1], t_pub)))
            await asyncio.sleep(max(0.0, start + (i + 1) * interval - time.perf_counter()))
        await asyncio.wait_for(asyncio.gather(*pending), 120)
        q = statistics.quantiles(latencies, n=20)
        return {"events_per_s": throughput, "p50_ms": statistics.median(latencies) * 1000, "p95_ms": q[18] * 1000,
                "stream": len(latencies)}
    finally:
        await publisher.close()


def main() -> None:
    from pkgcloud_servicekit.eventbus.topology import delete_topology

    ap = argparse.ArgumentParser()
    ap.add_argument("--replica", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--dir")
    ap.add_argument("--exchange")
    ap.add_argument("--prefix")
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()
    if args.replica:
        asyncio.run(run_replica(args))
        return
    results = {}
    with tempfile.TemporaryDirectory(prefix="pkgcloud-scale-out-") as tmp:
        for n in (1, 2):
            replicas = Replicas(n, args, Path(tmp))
            try:
                replicas.start()
                results[n] = asyncio.run(measure(replicas, args))
            finally:
                replicas.stop()
                asyncio.run(delete_topology(RABBITMQ_URL, replicas.exchange, replicas.prefix, ["index"]))
    print(f"index-svc, {len(OWNERS)} owners, {args.partitions} partitions, {os.cpu_count()} cores")
    print(f"{'':28}{'1 replica':>12}{'2 replicas':>12}")
    print(f"{'events applied / s':28}{results[1]['events_per_s']:>12.0f}{results[2]['events_per_s']:>12.0f}")
    print(f"{'publish->visible p50 (ms)':28}{results[1]['p50_ms']:>12.1f}{results[2]['p50_ms']:>12.1f}")
    print(f"{'publish->visible p95 (ms)':28}{results[1]['p95_ms']:>12.1f}{results[2]['p95_ms']:>12.1f}")
    print(f"(steady stream: {args.rate:g} events/s for {args.seconds:g} s, {results[1]['stream']} events per run)")


if __name__ == "__main__":
    main()
