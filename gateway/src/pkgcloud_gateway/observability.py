"""Request ids, the access log, Prometheus series, /metrics and /healthz."""

from __future__ import annotations

import asyncio
import logging
import re
import time

from aiohttp import web
from pkgcloud_servicekit import audit
from pkgcloud_servicekit.logs import info_fields, new_request_id, request_id_var, service_var
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

from . import keys
from .credentials import UNRESOLVED

log = logging.getLogger("pkgcloud_gateway.access")

HTTP_REQUESTS = Counter("pkgcloud_http_requests_total", "HTTP requests answered by the gateway", ["route", "method", "status"])
HTTP_LATENCY = Histogram(
    "pkgcloud_http_request_seconds",
    "Time to answer an HTTP request, body streaming included",
    ["route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)

# (route, method, status) -> its counter and histogram children: `.labels()` takes a lock and
# builds a key on every call, a visible share of serving a cached page.
_series: dict[tuple[str, str, int], tuple] = {}

_GOOD_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# /t/<token>/ URLs must never reach a log line.
_PATH_TOKEN = re.compile(r"/t/[^/]+")


def redact(path: str) -> str:
    return _PATH_TOKEN.sub("/t/<redacted>", path)


def route_label(request: web.Request) -> str:
    """The matched route's pattern, as reached through the path prefix (bounded cardinality)."""
    match_info = request.match_info
    route = match_info.route if match_info is not None else None
    resource = route.resource if route is not None else None
    if resource is None:
        return "unmatched"
    canonical = resource.canonical
    for app in reversed(match_info.apps):
        if keys.PROTOCOL in app:
            if app[keys.MOUNT_PREFIX] == "":
                canonical = f"/{app[keys.PROTOCOL]}{canonical}"
            break
    return canonical


@web.middleware
async def observe_middleware(request: web.Request, handler) -> web.StreamResponse:
    incoming = request.headers.get("X-Request-Id", "")
    rid = incoming if _GOOD_REQUEST_ID.fullmatch(incoming) else new_request_id()
    request[keys.REQUEST_ID] = rid
    request[keys.PRINCIPAL] = UNRESOLVED  # resolved by the access guard (credentials.principal_of)
    ctx = request_id_var.set(rid)
    svc = service_var.set("gateway")
    # the audit actor until the credential is resolved (credentials.set_actor): the address
    actor = audit.actor_var.set(audit.Actor(client=request.remote or ""))
    start = time.perf_counter()
    status = 500
    try:
        resp = await handler(request)
        status = resp.status
        return resp
    except web.HTTPException as e:
        status = e.status
        raise
    except asyncio.CancelledError:
        status = 499  # the client went away
        raise
    finally:
        elapsed = time.perf_counter() - start
        route = route_label(request)
        series = _series.get((route, request.method, status))
        if series is None:
            series = (HTTP_REQUESTS.labels(route, request.method, str(status)), HTTP_LATENCY.labels(route, str(status)))
            if len(_series) < 4096:  # methods are free-form: never an unbounded dict
                _series[(route, request.method, status)] = series
        series[0].inc()
        series[1].observe(elapsed)
        path = redact(request.rel_url.path)
        info_fields(log, f"{request.method} {path} {status} {elapsed * 1000:.1f}ms", {
            "method": request.method,
            "path": path,
            "route": route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "remote": request.remote,
            "user_agent": request.headers.get("User-Agent", ""),
        })
        audit.actor_var.reset(actor)
        request_id_var.reset(ctx)
        service_var.reset(svc)


async def add_request_id_header(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: also reaches streamed responses, whose headers go out early."""
    rid = request.get(keys.REQUEST_ID)
    if rid:
        response.headers["X-Request-Id"] = rid


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def healthz(request: web.Request) -> web.Response:
    peers = await request.config_dict[keys.CLIENTS].health()
    down = {name: status for name, status in peers.items() if status != "SERVING"}
    if down:
        detail = ", ".join(f"{n} ({s})" for n, s in sorted(down.items()))
        return web.json_response({"error": f"not serving: {detail}", "peers": peers}, status=503)
    return web.json_response({"status": "ok", "peers": peers})
