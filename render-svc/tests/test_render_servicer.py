"""RenderService.GetStatus through a real grpc.aio server and stub."""

from __future__ import annotations

import pytest
from pkgcloud_protos.v1 import render_pb2, render_pb2_grpc
from pkgcloud_render.core import RenderCore
from pkgcloud_render.servicer import SERVICE_NAME, RenderServicer
from pkgcloud_render.store import AppliedEvent
from pkgcloud_servicekit.grpc_plumbing import GrpcServer, check_health, open_channel


@pytest.fixture
async def stub(render_store):
    server = GrpcServer("127.0.0.1:0", [(render_pb2_grpc.add_RenderServiceServicer_to_server, RenderServicer(RenderCore(render_store)), SERVICE_NAME)])
    await server.start()
    channel = open_channel(f"127.0.0.1:{server.bound_port}")
    try:
        yield render_pb2_grpc.RenderServiceStub(channel), f"127.0.0.1:{server.bound_port}"
    finally:
        await channel.close()
        await server.stop(0)


async def test_status_of_every_owner_and_of_one(stub, render_store):
    stub, _ = stub
    empty = await stub.GetStatus(render_pb2.RenderStatusRequest())
    assert list(empty.owners) == [] and empty.total_applied == 0

    await render_store.apply_event(AppliedEvent("a1", "file.committed", "alice", 100))
    await render_store.apply_event(AppliedEvent("a2", "file.removed", "alice", 200))
    await render_store.apply_event(AppliedEvent("b1", "file.committed", "bob", 150))

    every = await stub.GetStatus(render_pb2.RenderStatusRequest())
    assert [(o.owner, o.last_event_id, o.last_event_type, o.applied_at_ms, o.events_applied) for o in every.owners] == [
        ("alice", "a2", "file.removed", 200, 2),
        ("bob", "b1", "file.committed", 150, 1),
    ]
    assert every.total_applied == 3
    alice = await stub.GetStatus(render_pb2.RenderStatusRequest(owner="alice"))
    assert [o.owner for o in alice.owners] == ["alice"] and alice.total_applied == 2
    nobody = await stub.GetStatus(render_pb2.RenderStatusRequest(owner="nobody"))
    assert list(nobody.owners) == [] and nobody.total_applied == 0


async def test_health_reports_the_render_service(stub):
    _, address = stub
    assert await check_health(address, SERVICE_NAME)
    assert SERVICE_NAME == "pkgcloud.v1.RenderService"
