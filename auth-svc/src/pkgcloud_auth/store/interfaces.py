"""The contract every auth-svc store fulfils (SqliteAuthStore, MongoAuthStore).

One store for users and tokens because they live in one database and a token always
belongs to a user. The store does no validation and no hashing: the core hands it records
that are already checked, normalised (lowercase logins) and hashed. Times are epoch ms.

Every change takes the audit entries that record it (`audit_entries`, built by the core)
and stores them with the change, in one transaction (SQLite) or in the single-document
write of the change (MongoDB; servicekit.audit): both or neither. A call that changes
nothing (a member already there) stores no entry.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence

from pkgcloud_servicekit.audit import AuditEntry, AuditTrailStore

from ..records import GroupRecord, RevokeSelector, TokenRecord, UserRecord


class AuthStore(AuditTrailStore):
    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and bring the schema / indexes up to date. Idempotent across restarts."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections. The store is unusable afterwards."""

    # --- users ------------------------------------------------------------------------
    @abc.abstractmethod
    async def create_user(self, user: UserRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> None:
        """Insert a user. Raises errors.Conflict when the login is taken (the login is
        already lowercase, so this is the case-insensitive uniqueness rule)."""

    @abc.abstractmethod
    async def get_user(self, login: str) -> UserRecord | None:
        """The user with exactly this (lowercase) login, or None."""

    @abc.abstractmethod
    async def set_password_hash(self, login: str, password_hash: str, *, audit_entries: Sequence[AuditEntry] = ()) -> bool:
        """Replace a user's hash (rehash on login, password change). False if no such user."""

    @abc.abstractmethod
    async def set_disabled(self, login: str, disabled: bool, *, audit_entries: Sequence[AuditEntry] = ()) -> bool:
        """Disable or re-enable an account. False if no such user."""

    # --- tokens -----------------------------------------------------------------------
    @abc.abstractmethod
    async def create_token(self, token: TokenRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> None:
        """Insert a token. Raises errors.NotFound when its login has no user, and
        errors.Conflict on a duplicate id or hash (with 256 random bits that never happens
        in practice)."""

    @abc.abstractmethod
    async def get_token_by_hash(self, token_sha256: str) -> TokenRecord | None:
        """The token with this sha256, revoked or expired ones included, or None."""

    @abc.abstractmethod
    async def list_tokens(self, login: str) -> list[TokenRecord]:
        """The login's tokens that are not revoked (expired ones included), oldest first."""

    @abc.abstractmethod
    async def touch_token(self, token_id: str, now_ms: int, min_interval_ms: int) -> bool:
        """Set last_used_ms = now_ms unless it was set less than min_interval_ms ago, so a
        busy token costs one write per interval, not one per request. True if written."""

    @abc.abstractmethod
    async def revoke_tokens(self, login: str, selector: RevokeSelector, now_ms: int, *,
                            audit_of: Callable[[TokenRecord], AuditEntry] | None = None) -> list[TokenRecord]:
        """audit_of(token) is the entry stored with each token's revocation.
        Mark the login's active tokens matching the selector revoked (revoked_at_ms =
        now_ms) and return them as they were before. A token revoked already, or belonging
        to another login, is not matched. Selecting by name revokes every token of that
        name. An empty list means nothing matched."""

    # --- organizations and groups -----------------------------------------------------
    @abc.abstractmethod
    async def create_org(self, org: UserRecord, owners: GroupRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> None:
        """Insert an organization (a user row with user_type "org") with its owners group,
        both or neither. Raises errors.Conflict when the login is taken."""

    @abc.abstractmethod
    async def get_group(self, org: str, name: str) -> GroupRecord | None:
        """The group with its members and packages, or None."""

    @abc.abstractmethod
    async def list_groups(self, org: str) -> list[GroupRecord]:
        """The org's groups, by name."""

    @abc.abstractmethod
    async def groups_of_member(self, login: str, org: str = "") -> list[GroupRecord]:
        """The groups `login` is a member of (only the org's when org is given), by (org, name)."""

    @abc.abstractmethod
    async def put_group(self, group: GroupRecord, *, audit_entries: Sequence[AuditEntry] = ()) -> GroupRecord:
        """Create the group (with no members or packages; those of `group` are ignored), or
        set the permission of the existing one, keeping its members, packages and creation
        time. Returns the stored group."""

    @abc.abstractmethod
    async def set_member(self, org: str, name: str, login: str, present: bool, *, audit_entries: Sequence[AuditEntry] = ()) -> bool:
        """Add (present=True) or remove a member. False when that changed nothing; raises
        errors.NotFound when the group does not exist."""

    @abc.abstractmethod
    async def set_package(self, org: str, name: str, package: str, present: bool, *, audit_entries: Sequence[AuditEntry] = ()) -> bool:
        """Add or remove a package of the group; like set_member."""

    # --- audit trail ------------------------------------------------------------------
    @abc.abstractmethod
    async def record_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Store entries that go with no change (a refused login)."""

    # list_audit, purge_audit, sweep_audit: see AuditTrailStore
