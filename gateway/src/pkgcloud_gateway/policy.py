"""Every access decision of the gateway, one function per question.

Reads that are refused look exactly like reads of something missing (the caller learns
nothing about private packages). Writes are decided from the principal and the owner
alone, before anything is looked up, so a refused write cannot reveal existence either.
"""

from __future__ import annotations

from pkgcloud_protos.v1 import auth_pb2
from pkgcloud_servicekit import errors

from .clients import call
from .credentials import Principal


def may_read_package(principal: Principal | None, owner: str, public: bool) -> bool:
    if public:
        return True
    return principal is not None and principal.login == owner


def may_write_package(principal: Principal | None, owner: str, permission: str = "none") -> bool:
    """`permission`: what auth-svc says the principal may do on the package (permission_on);
    without it only the owner account itself may write."""
    if principal is None:
        return False
    return principal.login == owner or _rank(permission) >= _rank("write")


def may_manage_tokens(principal: Principal | None, account: str, permission: str = "none") -> bool:
    """Create, list or revoke tokens of `account` (an org's: its admins)."""
    if principal is None:
        return False
    return principal.login == account or _rank(permission) >= _rank("admin")


def require_read_package(principal: Principal | None, owner: str, public: bool, not_found: str) -> None:
    if not may_read_package(principal, owner, public):
        raise errors.NotFound(not_found)


def require_write_package(principal: Principal | None, owner: str, permission: str = "none") -> None:
    if principal is None:
        raise errors.Unauthenticated("authentication required to change packages: log in first")
    if not may_write_package(principal, owner, permission):
        raise errors.Forbidden(f"{principal.login} may not change packages of {owner}")


def require_manage_tokens(principal: Principal | None, account: str, permission: str = "none") -> None:
    if principal is None:
        raise errors.Unauthenticated("authentication required")
    if not may_manage_tokens(principal, account, permission):
        raise errors.Forbidden(f"{principal.login} may not manage the tokens of {account}")


# --- PyPI simple indexes (issue 4) ------------------------------------------------------


def simple_index_view(principal: Principal | None, owner: str) -> str:
    """Which published view of owner's simple index the caller gets: "private" (every
    package) for the owner, "public" (public packages only) for everyone else."""
    return "private" if may_write_package(principal, owner) else "public"


def require_yank(principal: Principal | None, owner: str) -> None:
    """Yank or un-yank owner's Python distributions: the owner account only (as uploads
    through the PyPI API)."""
    require_write_package(principal, owner)


# --- organizations: permissions from auth-svc's groups (issue 5) ----------------------

PERMISSIONS = ("none", "read", "write", "admin")
_FROM_PB = {
    auth_pb2.PERMISSION_NONE: "none",
    auth_pb2.PERMISSION_READ: "read",
    auth_pb2.PERMISSION_WRITE: "write",
    auth_pb2.PERMISSION_ADMIN: "admin",
}


def _rank(permission: str) -> int:
    return PERMISSIONS.index(permission) if permission in PERMISSIONS else 0


async def permission_on(auth, principal: Principal | None, owner: str, package: str = "") -> str:
    """What the principal may do on owner's package (on the owner itself when package is
    empty): "none" | "read" | "write" | "admin". The account itself is admin without a
    call; anyone else is asked of auth-svc (org groups). Org tokens (user_type "org") act
    for their org only."""
    if principal is None:
        return "none"
    if principal.login == owner:
        return "admin"
    if principal.user_type != "user":
        return "none"
    resp = await call(auth.GetPermission(auth_pb2.GetPermissionRequest(login=principal.login, owner=owner, package=package)))
    return _FROM_PB.get(resp.permission, "none")


def require_org_member(principal: Principal | None, org_permission: str, not_found: str) -> None:
    """See an org's groups and members: any member. Everyone else gets the answer a
    missing group gets."""
    if principal is None or _rank(org_permission) < _rank("read"):
        raise errors.NotFound(not_found)


def require_org_admin(principal: Principal | None, org: str, org_permission: str, not_found: str) -> None:
    """Change an org's groups: its admins (the owners group). A member is told no; a
    stranger gets the answer a missing group gets."""
    if principal is None:
        raise errors.Unauthenticated("authentication required: log in first (anaconda login) or pass a token")
    require_org_member(principal, org_permission, not_found)
    if _rank(org_permission) < _rank("admin"):
        raise errors.Forbidden(f"{principal.login} may not change the groups of {org}")


# --- conda channels (issue 3) ---------------------------------------------------------

def conda_view(principal: Principal | None, owner: str) -> str:
    """Which published view of owner's conda channels the caller gets: "private" (every
    package) for the owner, "public" (public packages only) for everyone else."""
    return "private" if principal is not None and principal.login == owner else "public"
