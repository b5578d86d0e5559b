"""Every access decision of the gateway, one function per question.

Reads that are refused look exactly like reads of something missing (the caller learns
nothing about private packages). Writes are decided from the principal and the owner
alone, before anything is looked up, so a refused write cannot reveal existence either.
"""

from __future__ import annotations

from pkgcloud_servicekit import errors

from .credentials import Principal


def may_read_package(principal: Principal | None, owner: str, public: bool) -> bool:
    if public:
        return True
    return principal is not None and principal.login == owner


def may_write_package(principal: Principal | None, owner: str) -> bool:
    return principal is not None and principal.login == owner


def may_manage_tokens(principal: Principal | None, account: str) -> bool:
    """Create, list or revoke tokens of `account`."""
    return principal is not None and principal.login == account


def require_read_package(principal: Principal | None, owner: str, public: bool, not_found: str) -> None:
    if not may_read_package(principal, owner, public):
        raise errors.NotFound(not_found)


def require_write_package(principal: Principal | None, owner: str) -> None:
    if principal is None:
        raise errors.Unauthenticated("authentication required to change packages: log in first")
    if not may_write_package(principal, owner):
        raise errors.Forbidden(f"{principal.login} may not change packages of {owner}")


def require_manage_tokens(principal: Principal | None, account: str) -> None:
    if principal is None:
        raise errors.Unauthenticated("authentication required")
    if not may_manage_tokens(principal, account):
        raise errors.Forbidden(f"{principal.login} may not manage the tokens of {account}")
