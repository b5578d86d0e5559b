"""Domain records <-> protobuf messages (pkgcloud.v1 auth messages)."""

from __future__ import annotations

from pkgcloud_protos.v1 import auth_pb2

from .core import ResolvedToken
from .records import PERMISSIONS, GroupRecord, TokenRecord, UserRecord


def user_to_pb(u: UserRecord) -> auth_pb2.User:
    return auth_pb2.User(
        login=u.login, email=u.email, name=u.name, user_type=u.user_type,
        created_at_ms=u.created_at_ms, disabled=u.disabled, description=u.description,
    )


def token_to_pb(t: TokenRecord) -> auth_pb2.TokenInfo:
    return auth_pb2.TokenInfo(
        id=t.id, login=t.login, name=t.name, scopes=list(t.scopes), created_at_ms=t.created_at_ms,
        expires_at_ms=t.expires_at_ms, hostname=t.hostname, remote_addr=t.remote_addr,
        last_used_ms=t.last_used_ms,
    )


def principal_to_pb(r: ResolvedToken) -> auth_pb2.Principal:
    return auth_pb2.Principal(
        login=r.user.login, user_type=r.user.user_type, token_id=r.token.id,
        scopes=list(r.token.scopes), expires_at_ms=r.token.expires_at_ms, token_name=r.token.name,
    )


_PERMISSION_PB = {
    "none": auth_pb2.PERMISSION_NONE,
    "read": auth_pb2.PERMISSION_READ,
    "write": auth_pb2.PERMISSION_WRITE,
    "admin": auth_pb2.PERMISSION_ADMIN,
}
assert set(_PERMISSION_PB) == set(PERMISSIONS)
_PERMISSION_NAME = {v: k for k, v in _PERMISSION_PB.items()}


def permission_to_pb(permission: str) -> int:
    return _PERMISSION_PB[permission]


def permission_from_pb(value: int) -> str:
    """An unknown enum value (a newer caller) reads as "none", never as more."""
    return _PERMISSION_NAME.get(value, "none")


def group_to_pb(g: GroupRecord) -> auth_pb2.Group:
    return auth_pb2.Group(
        org=g.org, name=g.name, permission=permission_to_pb(g.permission), members=list(g.members),
        packages=list(g.packages), created_at_ms=g.created_at_ms,
    )
