"""Permission names, shared by auth-svc (groups grant them) and the gateway (routes need
them): one ordered enum, so "write" means the same on both sides of the wire."""

from __future__ import annotations

import enum


class Permission(enum.Enum):
    """What a principal may do on an owner or a package, weakest first."""

    NONE = "none"
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)


_ORDER = (Permission.NONE, Permission.READ, Permission.WRITE, Permission.ADMIN)
#: the names, weakest first
NAMES: tuple[str, ...] = tuple(p.value for p in _ORDER)


def at_least(held: Permission, needed: Permission) -> bool:
    return held.rank >= needed.rank


def parse(name: str) -> Permission:
    """An unknown name (a newer peer) reads as NONE, never as more."""
    try:
        return Permission(name)
    except ValueError:
        return Permission.NONE
