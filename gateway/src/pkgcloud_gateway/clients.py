"""gRPC stubs for the services behind the gateway, and the /healthz view of them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pkgcloud_protos.v1 import auth_pb2_grpc, index_pb2_grpc, registry_pb2_grpc, render_pb2_grpc
from pkgcloud_servicekit.errors import from_rpc_error
from pkgcloud_servicekit.grpc_balancing import open_balanced_channel

PEERS = ("auth", "registry", "index", "render")


@dataclass
class Clients:
    auth: auth_pb2_grpc.AuthServiceStub
    registry: registry_pb2_grpc.RegistryServiceStub
    index: index_pb2_grpc.IndexServiceStub
    render: render_pb2_grpc.RenderServiceStub
    channels: dict[str, grpc.aio.Channel] = field(default_factory=dict)

    @classmethod
    def open(cls, addresses: Mapping[str, str]) -> Clients:
        """One channel per peer; `addresses` maps every name of PEERS to a gRPC address: one,
        a comma-separated list or a DNS name of several replicas (balanced round-robin over
        the healthy ones, see grpc_balancing)."""
        channels = {name: open_balanced_channel(addresses[name]) for name in PEERS}
        return cls.from_channels(channels)

    @classmethod
    def from_channels(cls, channels: dict[str, grpc.aio.Channel]) -> Clients:
        return cls(
            auth=auth_pb2_grpc.AuthServiceStub(channels["auth"]),
            registry=registry_pb2_grpc.RegistryServiceStub(channels["registry"]),
            index=index_pb2_grpc.IndexServiceStub(channels["index"]),
            render=render_pb2_grpc.RenderServiceStub(channels["render"]),
            channels=channels,
        )

    async def health(self, timeout: float = 2.0) -> dict[str, str]:
        """Each peer's gRPC health status name (SERVING, NOT_SERVING, UNAVAILABLE, ...)."""

        async def one(name: str) -> tuple[str, str]:
            stub = health_pb2_grpc.HealthStub(self.channels[name])
            try:
                resp = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
            except grpc.aio.AioRpcError as e:
                return name, e.code().name
            return name, health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)

        results = await asyncio.gather(*(one(n) for n in PEERS if n in self.channels))
        return dict(results)

    async def close(self) -> None:
        for ch in self.channels.values():
            await ch.close()


async def call(awaitable):
    """Await an RPC, turning a failed call into the domain error it stands for."""
    try:
        return await awaitable
    except grpc.aio.AioRpcError as e:
        raise from_rpc_error(e) from None
