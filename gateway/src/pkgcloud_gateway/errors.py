"""Every error leaves the gateway as JSON `{"error": "..."}` with the right status: that
string is all anaconda-client (and a human with curl) gets to see."""

from __future__ import annotations

import logging

import grpc
from aiohttp import web
from pkgcloud_servicekit.errors import ServiceError, from_rpc_error

from . import keys

log = logging.getLogger(__name__)

_HTTP_MESSAGES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
}
# Headers of aiohttp's own HTTP exceptions worth keeping on the JSON answer.
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status < 400:
            raise  # redirects and the like are answers, not errors
        headers = {h: e.headers[h] for h in _KEPT_HEADERS if h in e.headers}
        message = _HTTP_MESSAGES.get(e.status) or e.reason or "error"
        return json_error(e.status, message, headers)
    except ServiceError as e:
        return _service_error(request, e)
    except grpc.aio.AioRpcError as e:
        return _service_error(request, from_rpc_error(e))
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.rel_url.path)
        return json_error(500, "internal server error")


def _service_error(request: web.Request, e: ServiceError) -> web.Response:
    if e.http_status >= 500:
        log.error("backend failure in %s %s: %s", request.method, request.rel_url.path, e.message)
    headers = {"WWW-Authenticate": 'Basic realm="pkgcloud"'} if e.http_status == 401 and request.get(keys.BASIC_CHALLENGE) else None
    return json_error(e.http_status, e.message, headers)
