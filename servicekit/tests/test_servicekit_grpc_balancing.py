"""A channel over several replicas of one gRPC service: round-robin, health-checked, and
calls keep succeeding while one replica stops (issue 12). Real grpc.aio servers on port 0."""

from __future__ import annotations

import asyncio

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pkgcloud_servicekit.grpc_balancing import channel_target, open_balanced_channel
from pkgcloud_servicekit.grpc_plumbing import GrpcServer


def test_targets():
    assert channel_target("127.0.0.1:5001,127.0.0.1:5002") == "ipv4:127.0.0.1:5001,127.0.0.1:5002"
    assert channel_target("localhost:5001, 127.0.0.1:5001") == "ipv4:127.0.0.1:5001"
    assert channel_target("[::1]:5001,[::1]:5002") == "ipv6:[::1]:5001,[::1]:5002"
    assert channel_target("registry:50052") == "dns:///registry:50052"
    assert channel_target("unix:/run/registry.sock") == "unix:/run/registry.sock"
    assert channel_target("unix:/run/a.sock,/run/b.sock") == "unix:/run/a.sock,/run/b.sock"
    assert channel_target("unix:/run/a.sock, unix:/run/b.sock") == "unix:/run/a.sock,/run/b.sock"
    with pytest.raises(ValueError):
        channel_target("a,b")


async def test_replicas_on_unix_sockets_share_the_calls(tmp_path):
    from pkgcloud_protos.v1 import common_pb2, index_pb2, index_pb2_grpc

    class Replica(index_pb2_grpc.IndexServiceServicer):
        calls = 0

        async def GetStatus(self, request, context):
            self.calls += 1
            return common_pb2.ConsumerStatus()

    replicas = [Replica(), Replica()]
    paths = [tmp_path / "a.sock", tmp_path / "b.sock"]
    servers = [GrpcServer(f"unix:{p}", [(index_pb2_grpc.add_IndexServiceServicer_to_server, r, "pkgcloud.v1.IndexService")])
               for p, r in zip(paths, replicas, strict=True)]
    channel = None
    try:
        for s in servers:
            await s.start()
        channel = open_balanced_channel(",".join(f"unix:{p}" for p in paths))
        stub = index_pb2_grpc.IndexServiceStub(channel)
        for _ in range(40):
            await stub.GetStatus(index_pb2.IndexStatusRequest(), timeout=5)
        assert replicas[0].calls > 5 and replicas[1].calls > 5
    finally:
        if channel is not None:
            await channel.close()
        for s in servers:
            await s.stop(0)


async def test_calls_keep_succeeding_while_one_replica_stops():
    from pkgcloud_protos.v1 import common_pb2, index_pb2, index_pb2_grpc

    class Replica(index_pb2_grpc.IndexServiceServicer):
        def __init__(self, name: str):
            self.name, self.calls = name, 0

        async def GetStatus(self, request, context):
            self.calls += 1
            return common_pb2.ConsumerStatus(total_applied=self.calls)

    replicas = [Replica("a"), Replica("b")]
    servers = [GrpcServer("127.0.0.1:0", [(index_pb2_grpc.add_IndexServiceServicer_to_server, r, "pkgcloud.v1.IndexService")])
               for r in replicas]
    channel = None
    try:
        for s in servers:
            await s.start()
        address = ",".join(f"127.0.0.1:{s.bound_port}" for s in servers)
        channel = open_balanced_channel(address)
        stub = index_pb2_grpc.IndexServiceStub(channel)
        for _ in range(40):
            await stub.GetStatus(index_pb2.IndexStatusRequest(), timeout=5)
        assert replicas[0].calls > 5 and replicas[1].calls > 5  # round-robin, not pick-first
        # b stops while calls are going on: none of them fails
        outcomes = []

        async def caller():
            for _ in range(100):
                try:
                    await stub.GetStatus(index_pb2.IndexStatusRequest(), timeout=5)
                    outcomes.append("ok")
                except Exception as exc:
                    outcomes.append(repr(exc))

        callers = [asyncio.ensure_future(caller()) for _ in range(4)]
        while len(outcomes) < 40:  # mid-way through the callers' calls
            await asyncio.sleep(0)
        b_before = replicas[1].calls
        # as the service stops: NOT_SERVING first, then in-flight calls get a grace period
        await servers[1].stop(1.0)
        await asyncio.gather(*callers)
        failures = [o for o in outcomes if o != "ok"]
        a_before = replicas[0].calls
        for _ in range(50):
            await stub.GetStatus(index_pb2.IndexStatusRequest(), timeout=5)
        assert failures == [] and len(outcomes) == 400
        assert replicas[0].calls == a_before + 50  # all to the replica left
        assert replicas[1].calls >= b_before
        health = health_pb2_grpc.HealthStub(channel)
        assert (await health.Check(health_pb2.HealthCheckRequest(), timeout=5)).status == health_pb2.HealthCheckResponse.SERVING
    finally:
        if channel is not None:
            await channel.close()
        for s in servers:
            await s.stop(0)
