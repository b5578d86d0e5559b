"""RenderService over gRPC: a translation layer over RenderCore."""

from __future__ import annotations

from pkgcloud_protos.v1 import common_pb2, render_pb2, render_pb2_grpc

from .converters import consumer_status
from .core import RenderCore

SERVICE_NAME = render_pb2.DESCRIPTOR.services_by_name["RenderService"].full_name


class RenderServicer(render_pb2_grpc.RenderServiceServicer):
    def __init__(self, core: RenderCore):
        self.core = core

    async def GetStatus(self, request: render_pb2.RenderStatusRequest, context) -> common_pb2.ConsumerStatus:
        return consumer_status(await self.core.status(request.owner))
