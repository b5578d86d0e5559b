"""The three ways pkgcloud runs, started as real processes.

all-in-one: `pkgcloud all` (SQLite, filesystem blobs, in-process bus) in a temp data dir.
split: `pkgcloud serve --target X` five times, RabbitMQ on 127.0.0.1:5672 with run-unique
exchange and queue names, and a real S3 HTTP endpoint (moto's ThreadedMotoServer) as the
MinIO stand-in; each service keeps its own SQLite file.

No port is chosen here: every process binds port 0 itself and writes what it got to its
PKGCLOUD_ADDRESS_FILE, which the harness waits for (a port picked here, released and handed
to a process that binds it later can be taken in between by another test's connection).
The split services talk gRPC over unix sockets in the data dir, so a restarted service comes
back at the same address the gateway already knows. Each process leads its own process
group, and stop() ends the whole group (gateway workers included), also after a failure.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
PKGCLOUD = REPO / ".venv" / "bin" / "pkgcloud"
SERVICES = ("auth", "registry", "index", "render")


@dataclass(eq=False)
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
    # replicas (split with replicas > 1): instance name ("index-2") -> its own gRPC address,
    # and each gateway instance's base URL
    instance_grpc: dict[str, str] = field(default_factory=dict)
    base_urls: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api"

    @staticmethod
    def target_of(instance: str) -> str:
        """"index-2" -> "index": a replica runs its service's target."""
        return instance.split("-", 1)[0]

    def address_file(self, target: str) -> Path:
        return self.data_dir.resolve() / "run" / f"{target}.addresses.json"

    def target_env(self, target: str) -> dict[str, str]:
        env = dict(self.env)
        if self.name == "split" and self.target_of(target) != "gateway":
            env["PKGCLOUD_GRPC_LISTEN"] = self.instance_grpc.get(target) or self.grpc[target]
            env["PKGCLOUD_METRICS_PORT"] = "0"
        return env

    def start_process(self, target: str) -> None:
        """Start a target (or one replica of it, "index-2"); wait_reported() (called by the
        ready checks) learns its ports."""
        cmd = [str(PKGCLOUD), "all"] if target == "all" else [str(PKGCLOUD), "serve", "--target", self.target_of(target)]
        log = self.data_dir / f"{target}.log"
        self.logs[target] = log
        report = self.address_file(target)
        report.parent.mkdir(parents=True, exist_ok=True)
        report.unlink(missing_ok=True)
        env = {**self.target_env(target), "PKGCLOUD_ADDRESS_FILE": str(report)}
        with open(log, "ab") as fh:
            self.procs[target] = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=self.data_dir,
                                                  start_new_session=True)
        _LIVE.add(self)

    def wait_reported(self, target: str, timeout: float = 60) -> dict:
        """The addresses the target's process reports once it is up (its ADDRESS_FILE)."""
        report = self.address_file(target)
        deadline = time.monotonic() + timeout
        while not report.exists():
            self._check_alive(target)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{target} reported no address in {timeout}s:\n{self.tail(target)}")
            time.sleep(0.05)
        got = json.loads(report.read_text())
        if got.get("http"):
            self.base_urls[target] = got["http"]
            if target in ("all", "gateway", "gateway-1"):
                self.base_url = got["http"]
        for svc, port in got.get("metrics", {}).items():
            self.metrics_ports[target if target in self.instance_grpc else svc] = port
        return got

    def kill(self, target: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(target)
        _signal_group(proc, sig)
        proc.wait(timeout=30)

    def restart(self, target: str, sig: int = signal.SIGKILL) -> None:
        """Kill a target (or replica) and start it again; returns once it serves. A gateway
        comes back on a new port (base_urls tells it); a gRPC service on its same socket."""
        self.kill(target, sig)
        self.start_process(target)
        if self.target_of(target) in ("all", "gateway"):
            self.wait_http_ready(target)
        else:
            self.wait_grpc_ready(target)

    def wait_grpc_ready(self, target: str, timeout: float = 30) -> None:
        from pkgcloud_servicekit.grpc_plumbing import check_health

        self.wait_reported(target, timeout)
        address = self.instance_grpc.get(target) or self.grpc[target]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive(target)
            if asyncio.run(check_health(address, timeout=1.0)):
                return
            time.sleep(0.2)
        raise TimeoutError(f"{target} not healthy in {timeout}s:\n{self.tail(target)}")

    def wait_http_ready(self, target: str, timeout: float = 60) -> None:
        self.wait_reported(target, timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t in self.procs:
                self._check_alive(t)
            try:
                if requests.get(f"{self.base_urls[target]}/healthz", timeout=2).status_code == 200:
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
        try:
            for proc in self.procs.values():
                _signal_group(proc, signal.SIGTERM)
            for proc in self.procs.values():
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
                # whatever is left of the group (a worker, a stuck process) goes now
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
            self.procs.clear()
        finally:
            _LIVE.discard(self)
            for fn in reversed(self.extra_cleanup):
                fn()
            self.extra_cleanup.clear()


# Topologies not stopped yet: a test process that exits without its teardown (an interrupt,
# a crashing fixture) still ends the process groups it started.
_LIVE: set[Topology] = set()


@atexit.register
def _stop_leftovers() -> None:
    for topo in list(_LIVE):
        for proc in topo.procs.values():
            _signal_group(proc, signal.SIGKILL)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Signal the process group the process leads (started with start_new_session)."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def _base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PKGCLOUD_")}
    env.update(
        PKGCLOUD_DATA_DIR=str(data_dir),
        PKGCLOUD_HOST="127.0.0.1",
        PKGCLOUD_PORT="0",
        PKGCLOUD_LOG_FORMAT="json",
        PKGCLOUD_LOG_LEVEL="INFO",
    )
    return env


def start_all_in_one(data_dir: Path, **extra_env: str) -> Topology:
    data_dir.mkdir(parents=True, exist_ok=True)
    run = data_dir.resolve() / "run"
    topo = Topology(
        name="all",
        base_url="",  # known once the process reports the port it bound
        data_dir=data_dir,
        env={**_base_env(data_dir), **extra_env},
        grpc={svc: f"unix:{run / (svc + '.sock')}" for svc in SERVICES},
    )
    try:
        topo.start_process("all")
        topo.wait_http_ready("all")
    except BaseException:
        topo.stop()
        raise
    return topo


def start_split(data_dir: Path, replicas: int = 1) -> Topology:
    """Five processes, RabbitMQ with run-unique names, S3 on a moto server. With replicas=N,
    N processes of every service ("auth-1", "auth-2", ..., "gateway-1", ...) on the same
    stores: each service's SQLite file, one bucket, one exchange; every gateway reaches every
    replica of each service (a list of addresses, balanced by the gateway)."""
    from moto.server import ThreadedMotoServer

    data_dir.mkdir(parents=True, exist_ok=True)
    run = data_dir.resolve() / "run"
    run.mkdir(parents=True, exist_ok=True)
    run_id = uuid.uuid4().hex[:12]
    instances = {svc: [svc] if replicas == 1 else [f"{svc}-{i}" for i in range(1, replicas + 1)] for svc in (*SERVICES, "gateway")}
    instance_grpc = {name: f"unix:{run / (name + '-grpc.sock')}" for svc in SERVICES for name in instances[svc]}
    # grpc's unix resolver takes a comma-separated list of paths: unix:/a.sock,/b.sock
    grpc = {svc: "unix:" + ",".join(instance_grpc[n].removeprefix("unix:") for n in instances[svc]) for svc in SERVICES}
    env = _base_env(data_dir)
    env.update(
        PKGCLOUD_BUS="rabbitmq",
        PKGCLOUD_RABBITMQ_URL=os.environ.get("PKGCLOUD_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        PKGCLOUD_EVENTS_EXCHANGE=f"pkgcloud-test-{run_id}",
        PKGCLOUD_EVENTS_QUEUE_PREFIX=f"pkgcloud-test-{run_id}",
        PKGCLOUD_BLOB_BACKEND="minio",
        PKGCLOUD_MINIO_ACCESS_KEY="testing",
        PKGCLOUD_MINIO_SECRET_KEY="testing",
        PKGCLOUD_MINIO_BUCKET=f"pkgcloud-{run_id}",
        PKGCLOUD_SQLITE_DIR=str(data_dir / "db"),
        **{f"PKGCLOUD_{svc.upper()}_ADDR": addr for svc, addr in grpc.items()},
    )
    topo = Topology(name="split", base_url="", data_dir=data_dir, env=env, grpc=grpc,
                    instance_grpc=instance_grpc if replicas > 1 else {})
    try:
        # moto binds port 0 itself (werkzeug's make_server) and tells the port it got; its
        # werkzeug access lines (one per S3 request) would drown a failing test's output
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        topo.extra_cleanup.append(moto.stop)
        env["PKGCLOUD_MINIO_ENDPOINT"] = "{}:{}".format(*moto.get_host_and_port())
        topo.extra_cleanup.append(lambda: _delete_rabbit_topology(env))
        services = [name for svc in SERVICES for name in instances[svc]]
        for name in services:
            topo.start_process(name)
        for name in services:
            topo.wait_grpc_ready(name)
        for name in instances["gateway"]:
            topo.start_process(name)
        for name in instances["gateway"]:
            topo.wait_http_ready(name)
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
