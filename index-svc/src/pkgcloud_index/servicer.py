"""IndexService over gRPC: a translation layer over IndexCore."""

from __future__ import annotations

from pkgcloud_protos.v1 import common_pb2, index_pb2, index_pb2_grpc

from .converters import consumer_status
from .core import IndexCore

SERVICE_NAME = index_pb2.DESCRIPTOR.services_by_name["IndexService"].full_name


class IndexServicer(index_pb2_grpc.IndexServiceServicer):
    def __init__(self, core: IndexCore):
        self.core = core

    async def GetStatus(self, request: index_pb2.IndexStatusRequest, context) -> common_pb2.ConsumerStatus:
        return consumer_status(await self.core.status(request.owner))
