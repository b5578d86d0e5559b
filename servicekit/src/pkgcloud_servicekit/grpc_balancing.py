"""Channels to a service that runs as several replicas (issue 12).

A peer address may be one `host:port`, a comma-separated list of them, or a DNS name that
resolves to several addresses; `unix:/a.sock,/b.sock` (or `unix:/a.sock,unix:/b.sock`) lists
local replicas. The channel balances calls
round-robin over every address (grpc's `round_robin` policy: one subchannel per address),
asks each replica's standard health service and sends calls only to those answering SERVING
(`healthCheckConfig`: a replica shutting down flips to NOT_SERVING before it stops), and
retries a call that failed with UNAVAILABLE on another replica (a connection that broke
under it). A list's host names are resolved once, when the channel opens; a single DNS name
is re-resolved by grpc's resolver as connections fail.
"""

from __future__ import annotations

import ipaddress
import json
import socket

import grpc

from .grpc_plumbing import CHANNEL_OPTIONS, _RequestIdClientInterceptor

SERVICE_CONFIG = {
    "loadBalancingConfig": [{"round_robin": {}}],
    "healthCheckConfig": {"serviceName": ""},
    "methodConfig": [{
        "name": [{}],
        "retryPolicy": {
            "maxAttempts": 3,
            "initialBackoff": "0.05s",
            "maxBackoff": "0.5s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        },
    }],
}

BALANCING_OPTIONS = [
    ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
    ("grpc.enable_retries", 1),
]


def channel_target(address: str) -> str:
    """The grpc target for a peer address (see the module docstring)."""
    address = address.strip()
    if address.startswith("unix:"):
        # grpc's unix resolver takes a list of paths after one scheme: unix:/a.sock,/b.sock
        return "unix:" + ",".join(p.strip().removeprefix("unix:") for p in address[len("unix:"):].split(","))
    if address.startswith(("dns:", "ipv4:", "ipv6:")) or "," not in address:
        return address if address.startswith(("unix:", "dns:", "ipv4:", "ipv6:")) else f"dns:///{address}"
    v4: list[str] = []
    v6: list[str] = []
    for part in (p.strip() for p in address.split(",")):
        if not part:
            continue
        host, _, port = part.rpartition(":")
        host = host.strip("[]")
        if not host or not port.isdigit():
            raise ValueError(f"bad gRPC address {part!r} in {address!r} (want host:port)")
        for ip in _resolve(host):
            (v4 if ip.version == 4 else v6).append(f"{ip}:{port}" if ip.version == 4 else f"[{ip}]:{port}")
    if v4:
        return "ipv4:" + ",".join(dict.fromkeys(v4))
    if v6:
        return "ipv6:" + ",".join(dict.fromkeys(v6))
    raise ValueError(f"no address in {address!r}")


def _resolve(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


def open_balanced_channel(address: str) -> grpc.aio.Channel:
    """A channel over every replica of a peer, round-robin and health-checked."""
    return grpc.aio.insecure_channel(
        channel_target(address),
        options=[*CHANNEL_OPTIONS, *BALANCING_OPTIONS],
        interceptors=[_RequestIdClientInterceptor()],
    )
