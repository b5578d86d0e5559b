"""Domain records <-> protobuf messages (pkgcloud.v1 auth messages)."""

from __future__ import annotations

from pkgcloud_protos.v1 import auth_pb2

from .core import ResolvedToken
from .records import TokenRecord, UserRecord


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
