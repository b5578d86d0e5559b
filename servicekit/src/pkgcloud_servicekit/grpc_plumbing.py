"""gRPC servers and channels as every service uses them.

A server gets: the standard health service, an interceptor that restores the caller's
request id, turns domain errors into status codes and counts calls in Prometheus.
A channel gets an interceptor that sends the current request id along, and who acts (the
audit actor, see audit.py) when the caller knows it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import Counter, Histogram

from . import listening
from .audit import actor_from_metadata, actor_metadata, actor_var
from .errors import ServiceError
from .logs import REQUEST_ID_HEADER, new_request_id, request_id_var, service_var

log = logging.getLogger(__name__)

RPC_CALLS = Counter("pkgcloud_grpc_server_calls_total", "gRPC calls handled", ["method", "code"])
RPC_LATENCY = Histogram("pkgcloud_grpc_server_seconds", "gRPC call latency", ["method"])

# Large enough for a package listing with many files; bytes never travel over gRPC.
_MSG_LIMIT = 64 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", _MSG_LIMIT),
    ("grpc.max_receive_message_length", _MSG_LIMIT),
]


class ServerInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, service: str = "-"):
        self.service = service

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        md = dict(handler_call_details.invocation_metadata or ())
        rid = md.get(REQUEST_ID_HEADER) or new_request_id()
        actor = actor_from_metadata(md)
        inner = handler.unary_unary

        async def wrapped(request, context):
            token = request_id_var.set(rid)
            actor_token = actor_var.set(actor)
            svc_token = service_var.set(self.service)
            start = time.perf_counter()
            code = "OK"
            try:
                return await inner(request, context)
            except ServiceError as e:
                code = e.code.name
                await context.abort(e.code, e.message)
            except grpc.aio.AbortError:
                code = "ABORTED_BY_HANDLER"
                raise
            except Exception:
                code = "INTERNAL"
                log.exception("unhandled error in %s", method)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            finally:
                elapsed = time.perf_counter() - start
                RPC_CALLS.labels(method, code).inc()
                RPC_LATENCY.labels(method).observe(elapsed)
                # one line per call, like an HTTP access log, under the caller's request id
                log.info("rpc %s %s %.1fms", method, code, elapsed * 1000, extra={"fields": {"rpc": method, "code": code, "ms": round(elapsed * 1000, 2)}})
                service_var.reset(svc_token)
                actor_var.reset(actor_token)
                request_id_var.reset(token)

        return grpc.unary_unary_rpc_method_handler(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class _RequestIdClientInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, client_call_details, request):
        md = list(client_call_details.metadata or ())
        md.append((REQUEST_ID_HEADER, request_id_var.get()))
        md.extend(actor_metadata(actor_var.get()))
        details = grpc.aio.ClientCallDetails(
            client_call_details.method, client_call_details.timeout, md,
            client_call_details.credentials, client_call_details.wait_for_ready,
        )
        return await continuation(details, request)


AddServicer = Callable[[Any, grpc.aio.Server], None]


class GrpcServer:
    """A grpc.aio server with health checking; `serving` flips every service to SERVING."""

    def __init__(self, address: str, servicers: Iterable[tuple[AddServicer, Any, str]]):
        self.address = address
        servicers = list(servicers)
        # "pkgcloud.v1.AuthService" -> "auth": the name log lines carry
        service = servicers[0][2].rsplit(".", 1)[-1].removesuffix("Service").lower() if servicers else "-"
        self.server = grpc.aio.server(interceptors=[ServerInterceptor(service)], options=CHANNEL_OPTIONS)
        self.health = health.aio.HealthServicer() if hasattr(health, "aio") else health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names: list[str] = []
        for add, servicer, full_name in servicers:
            add(servicer, self.server)
            self.service_names.append(full_name)
        self.service = service
        self.bound_port = self.server.add_insecure_port(address)

    @property
    def bound_address(self) -> str:
        """Where clients reach this server: `address` with the port it got for a port of 0."""
        return listening.grpc_bound_address(self.address, self.bound_port)

    async def start(self) -> None:
        await self.server.start()
        listening.record_grpc(self.service, self.bound_address)
        for name in ["", *self.service_names]:
            await _maybe_await(self.health.set(name, health_pb2.HealthCheckResponse.SERVING))
        log.info("gRPC server listening on %s", self.bound_address)

    async def stop(self, grace: float = 2.0) -> None:
        for name in ["", *self.service_names]:
            await _maybe_await(self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING))
        await self.server.stop(grace)


async def _maybe_await(x: Any) -> Any:
    if isinstance(x, Awaitable):
        return await x
    return x


def open_channel(address: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS, interceptors=[_RequestIdClientInterceptor()])


async def check_health(address: str, service: str = "", timeout: float = 2.0) -> bool:
    async with grpc.aio.insecure_channel(address) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        try:
            resp = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.aio.AioRpcError:
            return False
        return resp.status == health_pb2.HealthCheckResponse.SERVING
