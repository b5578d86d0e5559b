"""What this process actually listens on, reported to whoever started it.

A port of 0 (gateway `PORT`, `METRICS_PORT`, a `GRPC_LISTEN` of `host:0`) means "pick a free
one": the process binds it itself, and once every target is up, writes the addresses it got
to `PKGCLOUD_ADDRESS_FILE` (JSON, written whole by a rename, so a reader never sees half of
it). This is how the tests and benches start servers without picking a port, releasing it
and handing the number to a process that binds it later (another process can take it in
between).

The report is per process: the servers started in it record what they bound here.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_bound: dict[str, Any] = {"pid": os.getpid(), "http": None, "grpc": {}, "metrics": {}}


def record_http(url: str) -> None:
    with _lock:
        _bound["http"] = url


def record_grpc(service: str, address: str) -> None:
    with _lock:
        _bound["grpc"][service] = address


def record_metrics(service: str, port: int) -> None:
    with _lock:
        _bound["metrics"][service] = port


def forget_metrics(service: str, port: int) -> None:
    with _lock:
        if _bound["metrics"].get(service) == port:
            del _bound["metrics"][service]


def snapshot() -> dict[str, Any]:
    with _lock:
        return json.loads(json.dumps({**_bound, "pid": os.getpid()}))


def write_report(path: Path | str) -> None:
    """Write the addresses bound so far to `path`, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(snapshot(), sort_keys=True))
    os.replace(tmp, path)


def grpc_bound_address(address: str, bound_port: int) -> str:
    """The address clients use for a gRPC server asked to listen on `address`: the port it
    actually got in place of 0; a wildcard host becomes loopback."""
    if address.startswith("unix:"):
        return address
    host, _, _port = address.rpartition(":")
    if host in ("0.0.0.0", "[::]", ""):
        host = "127.0.0.1"
    return f"{host}:{bound_port}"
