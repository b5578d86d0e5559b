"""The three ways pkgcloud runs, started as real processes.

all-in-one: `pkgcloud all` (SQLite, filesystem blobs, in-process bus) in a temp data dir.
split: `pkgcloud serve --target X` five times, RabbitMQ on 127.0.0.1:5672 with run-unique
exchange and queue names, and a real S3 HTTP endpoint (moto's ThreadedMotoServer) as the
MinIO stand-in; each service keeps its own SQLite file.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .ports import free_port

REPO = Path(__file__).resolve().parents[2]
PKGCLOUD = REPO / ".venv" / "bin" / "pkgcloud"
SERVICES = ("auth", "registry", "index", "render")


@dataclass
class Topology:
    name: str
    base_url: str
    data_dir: Path
    env: dict[str, str]
    grpc: dict[str, str]  # service -> address, for status RPCs
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    extra_cleanup: list = field(default_factory=list)
    metrics_ports: dict[str, int] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api"

    def target_env(self, target: str) -> dict[str, str]:
        env = dict(self.env)
        if self.name == "split" and target != "gateway":
            env["PKGCLOUD_GRPC_LISTEN"] = self.grpc[target]
            # fixed per target, so a restarted service comes back on the same port
            port = self.metrics_ports.setdefault(target, free_port())
            env["PKGCLOUD_METRICS_PORT"] = str(port)
        return env

    def start_process(self, target: str) -> None:
        cmd = [str(PKGCLOUD), "all"] if target == "all" else [str(PKGCLOUD), "serve", "--target", target]
        log = self.data_dir / f"{target}.log"
        self.logs[target] = log
        fh = open(log, "ab")
        self.procs[target] = subprocess.Popen(cmd, env=self.target_env(target), stdout=fh, stderr=subprocess.STDOUT, cwd=self.data_dir)

    def kill(self, target: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(target)
        proc.send_signal(sig)
        proc.wait(timeout=30)

    def wait_grpc_ready(self, target: str, timeout: float = 30) -> None:
        from pkgcloud_servicekit.grpc_plumbing import check_health

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive(target)
            if asyncio.run(check_health(self.grpc[target], timeout=1.0)):
                return
            time.sleep(0.2)
        raise TimeoutError(f"{target} not healthy in {timeout}s:\n{self.tail(target)}")

    def wait_http_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t in self.procs:
                self._check_alive(t)
            try:
                if requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"gateway not healthy in {timeout}s:\n" + "\n".join(self.tail(t) for t in self.procs))

    def _check_alive(self, target: str) -> None:
        proc = self.procs.get(target)
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{target} exited with {proc.returncode}:\n{self.tail(target)}")

    def tail(self, target: str, lines: int = 40) -> str:
        log = self.logs.get(target)
        if not log or not log.exists():
            return ""
        return f"--- {target} log ---\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def pkgcloud(self, *args: str, target: str = "auth") -> subprocess.CompletedProcess:
        """Run an operator command with the environment of one service."""
        return subprocess.run([str(PKGCLOUD), *args], env=self.target_env(target), capture_output=True, text=True, cwd=self.data_dir, timeout=60)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
        for fn in reversed(self.extra_cleanup):
            fn()


def _base_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PKGCLOUD_")}
    env.update(
        PKGCLOUD_DATA_DIR=str(data_dir),
        PKGCLOUD_HOST="127.0.0.1",
        PKGCLOUD_PORT=str(port),
        PKGCLOUD_PUBLIC_URL=f"http://127.0.0.1:{port}",
        PKGCLOUD_LOG_FORMAT="json",
        PKGCLOUD_LOG_LEVEL="INFO",
    )
    return env


def start_all_in_one(data_dir: Path, **extra_env: str) -> Topology:
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    run = data_dir.resolve() / "run"
    topo = Topology(
        name="all",
        base_url=f"http://127.0.0.1:{port}",
        data_dir=data_dir,
        env={**_base_env(data_dir, port), **extra_env},
        grpc={svc: f"unix:{run / (svc + '.sock')}" for svc in SERVICES},
    )
    topo.start_process("all")
    try:
        topo.wait_http_ready()
    except BaseException:
        topo.stop()
        raise
    return topo


def start_split(data_dir: Path) -> Topology:
    """Five processes, RabbitMQ with run-unique names, S3 on a moto server."""
    from moto.server import ThreadedMotoServer

    data_dir.mkdir(parents=True, exist_ok=True)
    s3_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    moto.start()
    run_id = uuid.uuid4().hex[:12]
    port = free_port()
    grpc = {svc: f"127.0.0.1:{free_port()}" for svc in SERVICES}
    env = _base_env(data_dir, port)
    env.update(
        PKGCLOUD_BUS="rabbitmq",
        PKGCLOUD_RABBITMQ_URL=os.environ.get("PKGCLOUD_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        PKGCLOUD_EVENTS_EXCHANGE=f"pkgcloud-test-{run_id}",
        PKGCLOUD_EVENTS_QUEUE_PREFIX=f"pkgcloud-test-{run_id}",
        PKGCLOUD_BLOB_BACKEND="minio",
        PKGCLOUD_MINIO_ENDPOINT=f"127.0.0.1:{s3_port}",
        PKGCLOUD_MINIO_ACCESS_KEY="testing",
        PKGCLOUD_MINIO_SECRET_KEY="testing",
        PKGCLOUD_MINIO_BUCKET=f"pkgcloud-{run_id}",
        PKGCLOUD_SQLITE_DIR=str(data_dir / "db"),
        **{f"PKGCLOUD_{svc.upper()}_ADDR": addr for svc, addr in grpc.items()},
    )
    topo = Topology(name="split", base_url=f"http://127.0.0.1:{port}", data_dir=data_dir, env=env, grpc=grpc)
    topo.extra_cleanup.append(moto.stop)
    topo.extra_cleanup.append(lambda: _delete_rabbit_topology(env))
    try:
        for svc in SERVICES:
            topo.start_process(svc)
        for svc in SERVICES:
            topo.wait_grpc_ready(svc)
        topo.start_process("gateway")
        topo.wait_http_ready()
    except BaseException:
        topo.stop()
        raise
    return topo


def _delete_rabbit_topology(env: dict[str, str]) -> None:
    from pkgcloud_servicekit.eventbus import topology

    asyncio.run(
        topology.delete_topology(
            env["PKGCLOUD_RABBITMQ_URL"],
            exchange=env["PKGCLOUD_EVENTS_EXCHANGE"],
            queue_prefix=env["PKGCLOUD_EVENTS_QUEUE_PREFIX"],
            consumers=["index", "render", "gateway"],
        )
    )


START = {"all": start_all_in_one, "split": start_split}
