"""What auth-svc stores: users and tokens, as the core and every store exchange them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserRecord:
    login: str  # lowercase; unique
    email: str
    password_hash: str  # argon2 encoded hash ("" for organizations, which cannot log in)
    created_at_ms: int
    name: str = ""
    user_type: str = "user"  # "user" | "org"
    description: str = ""
    disabled: bool = False


@dataclass(frozen=True)
class TokenRecord:
    id: str  # public id, used in listings and to revoke
    login: str  # owner of the token
    token_sha256: str  # hex digest; the token itself is never stored
    name: str
    scopes: tuple[str, ...]
    created_at_ms: int
    expires_at_ms: int = 0  # 0 = never
    hostname: str = ""
    remote_addr: str = ""
    last_used_ms: int = 0
    revoked_at_ms: int = 0  # 0 = active

    def is_live(self, now_ms: int) -> bool:
        return self.revoked_at_ms == 0 and (self.expires_at_ms == 0 or now_ms < self.expires_at_ms)


@dataclass(frozen=True)
class RevokeSelector:
    """Which of a login's tokens to revoke: exactly one of the three is set."""

    token_sha256: str = ""
    token_id: str = ""
    name: str = ""


# Group permissions, weakest first; a principal's permission is the strongest that applies.
PERMISSIONS = ("none", "read", "write", "admin")
OWNERS_GROUP = "owners"


def permission_rank(permission: str) -> int:
    return PERMISSIONS.index(permission)


@dataclass(frozen=True)
class GroupRecord:
    """A group of an organization. An admin group's permission covers every package of the
    org (and the org itself: its groups and tokens); a read or write group's covers only the
    packages it lists."""

    org: str
    name: str  # lowercase; unique within the org
    permission: str  # "read" | "write" | "admin"
    created_at_ms: int
    members: tuple[str, ...] = ()  # logins, sorted
    packages: tuple[str, ...] = ()  # package names, sorted

    def covers(self, package: str) -> bool:
        return self.permission == "admin" or (bool(package) and package in self.packages)
