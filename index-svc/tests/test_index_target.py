"""The index target as `pkgcloud serve --target index` starts it: store, consumer, gRPC, metrics."""

from __future__ import annotations

from importlib.metadata import entry_points

from pkgcloud_index.target import TARGET
from pkgcloud_protos.v1 import events_pb2, index_pb2, index_pb2_grpc
from pkgcloud_servicekit.events import new_event
from pkgcloud_servicekit.testing import check_consumer_target_lifecycle

from .test_index_consumer import rec


def test_target_is_registered_under_its_name():
    [ep] = [ep for ep in entry_points(group="pkgcloud.targets") if ep.name == "index"]
    assert ep.load() is TARGET and TARGET.name == "index"


async def test_start_serves_status_of_consumed_events_and_stop_undoes_it(tmp_path):
    ev = new_event("alice", file_committed=events_pb2.FileCommitted(file=rec("alice", "numpy", "1.0", "linux-64/numpy-1.0-0.tar.bz2")))

    async def statuses(channel):
        return (await index_pb2_grpc.IndexServiceStub(channel).GetStatus(index_pb2.IndexStatusRequest(owner="alice"))).owners

    await check_consumer_target_lifecycle(TARGET, tmp_path, ev, statuses)
