"""JSON request helpers every API handler module imports (and nothing of theirs): the body
as an object, typed optional fields, and the one not-found answer for a missing object."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pkgcloud_protos.v1 import auth_pb2
from pkgcloud_servicekit import errors

from . import keys
from .clients import call

_JSON_TYPE = {"str": "string", "dict": "object", "list": "array", "int": "integer", "bool": "boolean"}


async def json_body(request: web.Request) -> dict[str, Any]:
    """The JSON object in the body; {} for an empty body (the client sends none on some POSTs)."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise errors.Invalid("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise errors.Invalid("the request body must be a JSON object")
    return body


def opt(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise errors.Invalid(f"'{name}' must be of type {_JSON_TYPE.get(names, names)}")
    return value


def str_list(body: dict[str, Any], name: str) -> list[str]:
    value = opt(body, name, list, [])
    if not all(isinstance(x, str) for x in value):
        raise errors.Invalid(f"'{name}' must be an array of strings")
    return value


async def not_found_as(awaitable, message: str):
    """A missing object answers one fixed message: the same one a refused read gets."""
    try:
        return await call(awaitable)
    except errors.NotFound:
        raise errors.NotFound(message) from None


async def existing_user(request: web.Request, login: str) -> auth_pb2.User:
    auth = request.config_dict[keys.CLIENTS].auth
    return await not_found_as(auth.GetUser(auth_pb2.GetUserRequest(login=login)), "User not found")
