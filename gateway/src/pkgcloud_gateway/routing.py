"""Host routing and path-prefix routing to the same handlers.

Each protocol (api, conda, pypi, notebooks, envs) is a sub-application built by a factory.
It is built twice: once mounted at its path prefix (`/api`, `/conda`, ...) so a laptop
without wildcard DNS works, and once on its own host (`api.<base_domain>`, ...) when a base
domain is configured. Everything else, on any host, is the root application (web UI,
/metrics, /healthz). Every route also exists behind a `/t/<token>/` segment, the
token-in-URL form conda and pip channel URLs use.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from pkgcloud_servicekit.settings import Settings

from . import keys
from .access import Handler, Rule, guarded, mark
from .credentials import PATH_TOKEN

PROTOCOLS = ("api", "conda", "pypi", "notebooks", "envs")

ProtocolFactory = Callable[[], web.Application]


def add_route(router: web.UrlDispatcher, method: str, path: str, handler: Handler, rule: Rule, *,
              token_twin: bool = True, wrap: Callable[[Handler], Handler] | None = None) -> None:
    """Register `path` behind its access `rule` (access.py), and its `/t/<token>` twin (the
    twin first, so an owner can never shadow it). GET routes answer HEAD too. `wrap`: an outer
    layer that must see the guard's refusals (the web UI's HTML error pages, twine's reason
    phrases)."""
    final = guarded(handler, rule)
    if wrap is not None:
        final = mark(wrap(final), rule)
    for p in (f"/t/{{{PATH_TOKEN}}}{path}", path) if token_twin else (path,):
        if method == "GET":
            router.add_get(p, final)
        else:
            router.add_route(method, p, final)


def mount_protocols(root: web.Application, settings: Settings, factories: dict[str, ProtocolFactory]) -> None:
    for protocol in PROTOCOLS:
        factory = factories[protocol]
        if settings.base_domain:
            on_host = factory()
            on_host[keys.PROTOCOL] = protocol
            on_host[keys.MOUNT_PREFIX] = ""
            _share_root_state(root, on_host)
            root.add_domain(f"{protocol}.{settings.base_domain}", on_host)
        prefixed = factory()
        prefixed[keys.PROTOCOL] = protocol
        prefixed[keys.MOUNT_PREFIX] = f"/{protocol}"
        _share_root_state(root, prefixed)
        root.add_subapp(f"/{protocol}", prefixed)


def _share_root_state(root: web.Application, sub: web.Application) -> None:
    """The root's state (clients, blob store, caches), by reference, in a sub-app too.

    `request.config_dict` looks a key up in the sub-app first; a miss there raises and
    catches a KeyError inside aiohttp, a visible share of the cost of serving an index page
    from memory, and every protocol request looks up root keys. Shared objects, not copies:
    the sub-app sees exactly what the root holds."""
    for key, value in root.items():
        if key not in sub:
            sub[key] = value


def _public_scheme(request: web.Request, settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url.split("://", 1)[0]
    return request.scheme


def protocol_base_url(request: web.Request, protocol: str | None = None) -> str:
    """Absolute base URL of a protocol as this caller reaches it, e.g. http://localhost:8080/api
    or https://api.example.com. Used for URLs the client fetches next (form upload, downloads)."""
    settings = request.config_dict[keys.SETTINGS]
    current = request.config_dict.get(keys.PROTOCOL)
    protocol = protocol or current
    reached_by_host = current is not None and request.config_dict[keys.MOUNT_PREFIX] == "" and settings.base_domain
    if reached_by_host:
        return f"{_public_scheme(request, settings)}://{protocol}.{_with_port(settings.base_domain, request.host)}"
    return f"{web_base_url(request)}/{protocol}"


def web_base_url(request: web.Request) -> str:
    """Absolute URL of the web UI (the bare domain): PKGCLOUD_PUBLIC_URL when set."""
    settings = request.config_dict[keys.SETTINGS]
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = request.host
    if settings.base_domain:
        for protocol in PROTOCOLS:
            prefix = f"{protocol}."
            if host.lower().startswith(prefix + settings.base_domain.lower()):
                host = host[len(prefix):]
                break
    return f"{request.scheme}://{host}"


def _with_port(base_domain: str, request_host: str) -> str:
    """base_domain with the port the caller used (development setups run on :8080)."""
    _, sep, port = request_host.rpartition(":")
    if sep and port.isdigit() and ":" not in base_domain:
        return f"{base_domain}:{port}"
    return base_domain
