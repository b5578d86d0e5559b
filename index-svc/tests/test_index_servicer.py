"""IndexService.GetStatus through a real grpc.aio server and stub."""

from __future__ import annotations

import pytest
from pkgcloud_index.core import IndexCore
from pkgcloud_index.servicer import SERVICE_NAME, IndexServicer
from pkgcloud_index.store import AppliedEvent, UpsertFile
from pkgcloud_protos.v1 import index_pb2, index_pb2_grpc
from pkgcloud_servicekit.grpc_plumbing import GrpcServer, check_health, open_channel

from .test_index_store import a_file


@pytest.fixture
async def stub(index_store):
    server = GrpcServer("127.0.0.1:0", [(index_pb2_grpc.add_IndexServiceServicer_to_server, IndexServicer(IndexCore(index_store)), SERVICE_NAME)])
    await server.start()
    channel = open_channel(f"127.0.0.1:{server.bound_port}")
    try:
        yield index_pb2_grpc.IndexServiceStub(channel), f"127.0.0.1:{server.bound_port}"
    finally:
        await channel.close()
        await server.stop(0)


async def test_status_of_every_owner_and_of_one(stub, index_store):
    stub, _ = stub
    empty = await stub.GetStatus(index_pb2.IndexStatusRequest())
    assert list(empty.owners) == [] and empty.total_applied == 0

    await index_store.apply_event(AppliedEvent("a1", "file.committed", "alice", 100), [UpsertFile(a_file())])
    await index_store.apply_event(AppliedEvent("a2", "file.removed", "alice", 200), [])
    await index_store.apply_event(AppliedEvent("b1", "file.committed", "bob", 150), [UpsertFile(a_file(owner="bob"))])

    every = await stub.GetStatus(index_pb2.IndexStatusRequest())
    assert [(o.owner, o.last_event_id, o.last_event_type, o.applied_at_ms, o.events_applied) for o in every.owners] == [
        ("alice", "a2", "file.removed", 200, 2),
        ("bob", "b1", "file.committed", 150, 1),
    ]
    assert every.total_applied == 3

    bob = await stub.GetStatus(index_pb2.IndexStatusRequest(owner="bob"))
    assert [o.owner for o in bob.owners] == ["bob"] and bob.total_applied == 1
    nobody = await stub.GetStatus(index_pb2.IndexStatusRequest(owner="nobody"))
    assert list(nobody.owners) == [] and nobody.total_applied == 0


async def test_health_reports_the_index_service(stub):
    _, address = stub
    assert await check_health(address, SERVICE_NAME)
    assert SERVICE_NAME == "pkgcloud.v1.IndexService"
