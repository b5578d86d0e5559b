"""RenderService over gRPC: a translation layer over RenderCore."""

from __future__ import annotations

import re

from pkgcloud_protos.v1 import common_pb2, render_pb2, render_pb2_grpc
from pkgcloud_servicekit.errors import Invalid

from .converters import consumer_status, rendered_notebook
from .core import RenderCore

_SHA256 = re.compile(r"[0-9a-f]{64}")

SERVICE_NAME = render_pb2.DESCRIPTOR.services_by_name["RenderService"].full_name


class RenderServicer(render_pb2_grpc.RenderServiceServicer):
    def __init__(self, core: RenderCore):
        self.core = core

    async def GetStatus(self, request: render_pb2.RenderStatusRequest, context) -> common_pb2.ConsumerStatus:
        return consumer_status(await self.core.status(request.owner))

    async def RenderNotebook(self, request: render_pb2.RenderNotebookRequest, context) -> render_pb2.RenderedNotebook:
        if self.core.notebooks is None:
            raise Invalid("this render-svc does not render notebooks")
        if not _SHA256.fullmatch(request.sha256) or not request.blob_key.startswith("files/"):
            raise Invalid("RenderNotebook needs the notebook's sha256 (64 hex digits) and its files/... blob key")
        return rendered_notebook(await self.core.notebooks.render(request.sha256, request.blob_key))
