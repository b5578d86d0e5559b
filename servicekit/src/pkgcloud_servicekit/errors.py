"""Domain errors shared by every service, and their gRPC and HTTP faces.

A service core raises these; the gRPC plumbing turns them into status codes with the
message as details; the gateway turns the status code back into an HTTP status whose JSON
`error` field carries the same message, which is what anaconda-client prints.
"""

from __future__ import annotations

import grpc


class ServiceError(Exception):
    code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    http_status: int = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND
    http_status = 404


class Conflict(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS
    http_status = 409


class Invalid(ServiceError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    http_status = 400


class Unauthenticated(ServiceError):
    code = grpc.StatusCode.UNAUTHENTICATED
    http_status = 401


class Forbidden(ServiceError):
    code = grpc.StatusCode.PERMISSION_DENIED
    http_status = 403


class PreconditionFailed(ServiceError):
    """The request is well-formed but the state does not allow it (e.g. a locked label)."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    http_status = 400


class Throttled(ServiceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    http_status = 429


class TooLarge(ServiceError):
    code = grpc.StatusCode.OUT_OF_RANGE
    http_status = 413


_BY_CODE = {cls.code: cls for cls in (NotFound, Conflict, Invalid, Unauthenticated, Forbidden, PreconditionFailed, Throttled, TooLarge)}


def from_rpc_error(err: grpc.aio.AioRpcError | grpc.RpcError) -> ServiceError:
    """The domain error a failed RPC stands for (INTERNAL/UNAVAILABLE become a 5xx ServiceError)."""
    code = err.code()
    message = err.details() or code.name.lower()
    cls = _BY_CODE.get(code)
    if cls is None:
        e = ServiceError(message if code != grpc.StatusCode.UNAVAILABLE else "a backend service is unavailable")
        e.http_status = 503 if code == grpc.StatusCode.UNAVAILABLE else 500
        return e
    return cls(message)
