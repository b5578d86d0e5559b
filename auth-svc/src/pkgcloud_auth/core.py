"""AuthCore: accounts, tokens, organizations and groups, independent of any transport.

The gRPC servicer and the admin command both drive this class; it raises the domain
errors of pkgcloud_servicekit.errors, which each transport maps to its own status.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import NamedTuple

from pkgcloud_protos.v1 import events_pb2
from pkgcloud_servicekit import audit
from pkgcloud_servicekit import scopes as scope_rules
from pkgcloud_servicekit.audit import Actor, AuditEntry, AuditQuery
from pkgcloud_servicekit.errors import Conflict, Forbidden, Invalid, NotFound, Throttled, Unauthenticated
from pkgcloud_servicekit.eventbus import EventBus
from pkgcloud_servicekit.events import new_event

from . import accounts, tokens
from .passwords import Passwords
from .records import OWNERS_GROUP, PERMISSIONS, GroupRecord, RevokeSelector, TokenRecord, UserRecord, permission_rank
from .store import AuthStore
from .throttle import FailureWindow

log = logging.getLogger(__name__)

# One message for every password mismatch, so it never tells which logins exist.
BAD_CREDENTIALS = "invalid username or password"
MAX_TOKEN_NAME = 256
MAX_CLIENT_FIELD = 255


class ResolvedToken(NamedTuple):
    user: UserRecord
    token: TokenRecord


class AuthCore:
    def __init__(
        self,
        store: AuthStore,
        bus: EventBus | None,
        *,
        passwords: Passwords | None = None,
        login_failure_limit: int = 10,
        addr_failure_limit: int = 50,
        failure_window_s: float = 600.0,
        touch_interval_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ):
        """bus may be None only for offline tools (the admin command), which revoke nothing
        that a running gateway could have cached."""
        self.store = store
        self.bus = bus
        self.passwords = passwords or Passwords()
        self.clock = clock
        self.touch_interval_ms = int(touch_interval_s * 1000)
        self._login_failures = FailureWindow(login_failure_limit, failure_window_s, clock)
        self._addr_failures = FailureWindow(addr_failure_limit, failure_window_s, clock)

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _audit(self, owner: str, action: str, target: str, actor: Actor | None = None) -> list[AuditEntry]:
        """The entry recording a change about to be stored (by the current actor, see
        servicekit.audit); handed to the store, which writes it with the change."""
        return [audit.entry(owner, action, target, at_ms=self._now_ms(), actor=actor)]

    def _as(self, login: str) -> Actor:
        """The current actor, named `login` when the caller is not signed in (sign-up,
        a login attempt)."""
        current = audit.actor_var.get() or Actor()
        return current if current.login else Actor(login=login, token=None, client=current.client)

    # --- users ------------------------------------------------------------------------
    async def create_user(self, login: str, email: str, password: str, name: str = "") -> UserRecord:
        user_login = accounts.check_new_login(login)
        user_email = accounts.check_email(email)
        accounts.check_password(password)
        display = accounts.check_display_name(name)
        # Fail before paying for a hash; the store's unique key still decides a race.
        if await self.store.get_user(user_login) is not None:
            raise Conflict(f"login {user_login!r} is already taken")
        user = UserRecord(
            login=user_login, email=user_email, name=display, created_at_ms=self._now_ms(),
            password_hash=await self.passwords.hash(password),
        )
        await self.store.create_user(user, audit_entries=self._audit(user_login, "account.create", user_login, self._as(user_login)))
        log.info("created user %s", user_login)
        return user

    async def get_user(self, login: str) -> UserRecord:
        try:
            key = accounts.normalize_login(login)
        except Invalid:
            raise NotFound(f"no user {login!r}") from None
        user = await self.store.get_user(key)
        if user is None:
            raise NotFound(f"no user {login!r}")
        return user

    async def set_disabled(self, login: str, disabled: bool) -> UserRecord:
        user = await self.get_user(login)
        action = "account.disable" if disabled else "account.enable"
        await self.store.set_disabled(user.login, disabled, audit_entries=self._audit(user.login, action, user.login))
        return await self.get_user(user.login)

    async def check_password(self, login: str, password: str, remote_addr: str = "") -> UserRecord:
        """The user whose password this is. Unauthenticated on any mismatch (same message
        for an unknown login), Throttled after repeated failures for the login or from the
        address, Forbidden for a disabled account (told only to who knows its password)."""
        key = (login or "").strip().lower()
        wait = max(self._login_failures.retry_after(key), self._addr_failures.retry_after(remote_addr))
        if wait > 0:
            raise Throttled(f"too many failed login attempts; try again in {math.ceil(wait)} seconds")
        # Counted before the (slow) check so parallel guesses cannot all slip through
        # the window; taken back below when the password turns out right.
        self._login_failures.record(key)
        self._addr_failures.record(remote_addr)

        user = None
        if accounts.LOGIN_RE.fullmatch(key) and len(password or "") <= accounts.MAX_PASSWORD:
            user = await self.store.get_user(key)
        if user is None or not user.password_hash:
            await self.passwords.waste_time(password or "")
            raise Unauthenticated(BAD_CREDENTIALS)
        if not await self.passwords.verify(user.password_hash, password):
            await self._refused_login(user, remote_addr)
            raise Unauthenticated(BAD_CREDENTIALS)

        self._login_failures.clear(key)
        self._addr_failures.forgive(remote_addr)
        if user.disabled:
            await self._refused_login(user, remote_addr)
            raise Forbidden(f"the account {user.login!r} is disabled")
        if self.passwords.needs_rehash(user.password_hash):
            await self.store.set_password_hash(user.login, await self.passwords.hash(password))
            log.info("upgraded the password hash of %s", user.login)
        return user

    async def _refused_login(self, user: UserRecord, remote_addr: str) -> None:
        """A refused login on an existing account goes into its audit trail (unknown logins
        have no trail; throttled attempts are refused before any work, and stay uncounted)."""
        current = audit.actor_var.get() or Actor()
        actor = Actor(login=user.login, token=None, client=current.client or remote_addr)
        await self.store.record_audit(self._audit(user.login, "login.refused", user.login, actor))

    async def change_password(self, login: str, old_password: str, new_password: str, remote_addr: str = "") -> UserRecord:
        """Replace the password of `login`, proving the old one first (throttled and refused
        for a disabled account exactly like a login)."""
        accounts.check_password(new_password)
        user = await self.check_password(login, old_password, remote_addr)
        await self.store.set_password_hash(user.login, await self.passwords.hash(new_password),
                                           audit_entries=self._audit(user.login, "password.change", user.login, self._as(user.login)))
        log.info("changed the password of %s", user.login)
        return await self.get_user(user.login)

    # --- tokens -----------------------------------------------------------------------
    async def create_token(
        self,
        login: str,
        name: str,
        scopes: Iterable[str] = (),
        max_age_s: int = 0,
        hostname: str = "",
        remote_addr: str = "",
    ) -> tuple[str, TokenRecord]:
        """A new token for `login` and its record; the plaintext is returned only here."""
        token_scopes = _normalize_scopes(scopes)
        if max_age_s < 0:
            raise Invalid("max-age must be a positive number of seconds (or 0 for no expiry)")
        token_name = (name or "").strip() or "token"
        if len(token_name) > MAX_TOKEN_NAME:
            raise Invalid(f"the token name must be at most {MAX_TOKEN_NAME} characters")
        user = await self.get_user(login)
        if user.disabled:
            raise Forbidden(f"the account {user.login!r} is disabled")
        now = self._now_ms()
        plaintext = tokens.new_token()
        record = TokenRecord(
            id=tokens.new_token_id(), login=user.login, token_sha256=tokens.token_sha256(plaintext),
            name=token_name, scopes=token_scopes, created_at_ms=now,
            expires_at_ms=now + max_age_s * 1000 if max_age_s else 0,
            hostname=(hostname or "")[:MAX_CLIENT_FIELD], remote_addr=(remote_addr or "")[:MAX_CLIENT_FIELD],
        )
        entries = self._audit(user.login, "token.create", _token_target(record), self._as(user.login))
        await self.store.create_token(record, audit_entries=entries)
        log.info("created token %s (%s) for %s", record.id, record.name, user.login)
        return plaintext, record

    async def resolve_token(self, token: str) -> ResolvedToken:
        """Whose token this is; Unauthenticated when unknown, expired, revoked or its
        account is disabled."""
        if not tokens.looks_like_token(token or ""):
            raise Unauthenticated("invalid token")
        digest = tokens.token_sha256(token)
        record = await self.store.get_token_by_hash(digest)
        if record is None or not tokens.same_digest(record.token_sha256, digest):
            raise Unauthenticated("invalid token")
        now = self._now_ms()
        if record.revoked_at_ms:
            raise Unauthenticated("this token has been revoked")
        if record.expires_at_ms and now >= record.expires_at_ms:
            raise Unauthenticated("this token has expired")
        user = await self.store.get_user(record.login)
        if user is None or user.disabled:
            raise Unauthenticated("the account of this token is disabled")
        if now - record.last_used_ms >= self.touch_interval_ms:
            if await self.store.touch_token(record.id, now, self.touch_interval_ms):
                record = replace(record, last_used_ms=now)
        return ResolvedToken(user, record)

    async def list_tokens(self, login: str) -> list[TokenRecord]:
        """The login's live tokens (neither revoked nor expired), oldest first."""
        user = await self.get_user(login)
        now = self._now_ms()
        return [t for t in await self.store.list_tokens(user.login) if t.is_live(now)]

    async def revoke_token(self, login: str = "", *, token: str = "", token_id: str = "", name: str = "") -> int:
        """Revoke by the token itself (logout; login may be empty), by id or by name (every
        token of that name). Returns how many were revoked, 0 when nothing matched. Each
        revocation is announced as a `token.revoked` event once it is stored."""
        if sum(bool(x) for x in (token, token_id, name)) != 1:
            raise Invalid("give exactly one of: the token, its id, or its name")
        key = (login or "").strip().lower()
        if token:
            if not tokens.looks_like_token(token):
                return 0
            selector = RevokeSelector(token_sha256=tokens.token_sha256(token))
            if not key:
                found = await self.store.get_token_by_hash(selector.token_sha256)
                if found is None:
                    return 0
                key = found.login
        else:
            if not key:
                raise Invalid("a login is required to revoke a token by id or name")
            selector = RevokeSelector(token_id=token_id, name=name)
        def audit_of(record: TokenRecord) -> AuditEntry:
            return self._audit(record.login, "token.revoke", _token_target(record), self._as(record.login))[0]

        revoked = await self.store.revoke_tokens(key, selector, self._now_ms(), audit_of=audit_of)
        for record in revoked:
            log.info("revoked token %s (%s) of %s", record.id, record.name, record.login)
            await self._announce_revoked(record)
        return len(revoked)

    async def _announce_revoked(self, record: TokenRecord) -> None:
        if self.bus is None:
            return
        event = new_event(record.login, token_revoked=events_pb2.TokenRevoked(token_sha256=record.token_sha256, login=record.login))
        try:
            await self.bus.publish(event)
        except Exception:
            # The revocation is stored and resolve_token refuses the token from now on; a
            # lost event only lets a gateway's cached credential live out its short TTL.
            log.exception("could not publish token.revoked for token %s", record.id)

    @staticmethod
    def list_scopes() -> list[tuple[str, str]]:
        return list(scope_rules.SCOPES.items())

    # --- organizations and groups -----------------------------------------------------
    async def create_org(self, login: str, creator: str, name: str = "", description: str = "", email: str = "") -> UserRecord:
        """A new organization whose owners group holds `creator` (an enabled user)."""
        org_login = accounts.check_new_login(login)
        display = accounts.check_display_name(name)
        about = accounts.check_description(description)
        contact = accounts.check_email(email) if (email or "").strip() else ""
        owner = await self._member_candidate(creator)
        now = self._now_ms()
        org = UserRecord(login=org_login, email=contact, password_hash="", created_at_ms=now, name=display,
                         user_type="org", description=about)
        owners = GroupRecord(org=org_login, name=OWNERS_GROUP, permission="admin", created_at_ms=now, members=(owner.login,))
        await self.store.create_org(org, owners, audit_entries=self._audit(org_login, "org.create", org_login))
        log.info("created organization %s owned by %s", org_login, owner.login)
        await self._announce_membership(org_login, owner.login)
        return org

    async def list_orgs(self, login: str) -> list[UserRecord]:
        """The organizations `login` belongs to through any group, by login."""
        user = await self.get_user(login)
        out: list[UserRecord] = []
        for org in sorted({g.org for g in await self.store.groups_of_member(user.login)}):
            found = await self.store.get_user(org)
            if found is not None:
                out.append(found)
        return out

    async def list_groups(self, org: str, member: str = "") -> list[GroupRecord]:
        org_user = await self._get_org(org)
        if member:
            return await self.store.groups_of_member(member.strip().lower(), org_user.login)
        return await self.store.list_groups(org_user.login)

    async def get_group(self, org: str, name: str) -> GroupRecord:
        org_user = await self._get_org(org)
        group = await self.store.get_group(org_user.login, _group_key(name))
        if group is None:
            raise NotFound(f"no group {name!r} in {org_user.login}")
        return group

    async def put_group(self, org: str, name: str, permission: str) -> GroupRecord:
        org_user = await self._get_org(org)
        key = _check_group_name(name)
        if permission not in PERMISSIONS[1:]:
            raise Invalid(f"invalid permission {permission!r}: use one of read, write, admin")
        if key == OWNERS_GROUP and permission != "admin":
            raise Invalid("the owners group always has the admin permission")
        group = await self.store.put_group(GroupRecord(org=org_user.login, name=key, permission=permission, created_at_ms=self._now_ms()),
                                           audit_entries=self._audit(org_user.login, "group.set", f"{org_user.login}/groups/{key}:{permission}"))
        log.info("group %s/%s has permission %s", org_user.login, key, permission)
        await self._announce_membership(org_user.login, "")
        return group

    async def set_member(self, org: str, name: str, login: str, present: bool) -> GroupRecord:
        group = await self.get_group(org, name)
        if present:
            member = (await self._member_candidate(login)).login
        else:
            member = (login or "").strip().lower()
            if member not in group.members:
                raise NotFound(f"{login!r} is not a member of {group.org}/{group.name}")
            if group.name == OWNERS_GROUP and group.members == (member,):
                raise Invalid(f"{member!r} is the last owner of {group.org}; add another owner first")
        action = "group.member.add" if present else "group.member.remove"
        entries = self._audit(group.org, action, f"{group.org}/groups/{group.name}/members/{member}")
        if await self.store.set_member(group.org, group.name, member, present, audit_entries=entries):
            log.info("%s %s %s/%s", "added" if present else "removed", member, group.org, group.name)
            await self._announce_membership(group.org, member)
        return await self.get_group(group.org, group.name)

    async def set_package(self, org: str, name: str, package: str, present: bool) -> GroupRecord:
        group = await self.get_group(org, name)
        package_name = (package or "").strip()
        if not package_name or "/" in package_name or len(package_name) > 256:
            raise Invalid(f"invalid package name {package!r}")
        if not present and package_name not in group.packages:
            raise NotFound(f"{package_name!r} is not a package of {group.org}/{group.name}")
        action = "group.package.add" if present else "group.package.remove"
        entries = self._audit(group.org, action, f"{group.org}/groups/{group.name}/packages/{package_name}")
        if await self.store.set_package(group.org, group.name, package_name, present, audit_entries=entries):
            await self._announce_membership(group.org, "")
        return await self.get_group(group.org, group.name)

    async def permission(self, login: str, owner: str, package: str = "") -> str:
        """What `login` may do on `owner`'s package (on the owner itself when package is
        empty): "none", "read", "write" or "admin". A user is admin of their own account;
        in an org, the strongest group of theirs covering the package wins, and on the org
        itself an admin group gives admin and any other membership read."""
        principal = (login or "").strip().lower()
        owner_key = (owner or "").strip().lower()
        if not principal or not owner_key:
            return "none"
        user = await self.store.get_user(principal)
        if user is None or user.disabled:
            return "none"
        if principal == owner_key:
            return "admin"
        org = await self.store.get_user(owner_key)
        if org is None or org.user_type != "org" or user.user_type != "user":
            return "none"
        best = 0
        for group in await self.store.groups_of_member(principal, owner_key):
            if package:
                if group.covers(package):
                    best = max(best, permission_rank(group.permission))
            else:
                best = max(best, permission_rank("admin" if group.permission == "admin" else "read"))
        return PERMISSIONS[best]

    # --- audit trail ------------------------------------------------------------------
    async def list_audit(self, query: AuditQuery) -> list[AuditEntry]:
        """The owner's entries (see AuthStore.list_audit); the caller decided who may read them."""
        owner = (query.owner or "").strip().lower()
        if not owner:
            raise Invalid("an owner is required")
        return await self.store.list_audit(AuditQuery(owner, query.before, query.limit, query.action, query.actor.strip().lower()))

    async def _get_org(self, org: str) -> UserRecord:
        try:
            key = accounts.normalize_login(org)
        except Invalid:
            raise NotFound(f"no organization {org!r}") from None
        found = await self.store.get_user(key)
        if found is None or found.user_type != "org":
            raise NotFound(f"no organization {org!r}")
        return found

    async def _member_candidate(self, login: str) -> UserRecord:
        user = await self.get_user(login)
        if user.user_type != "user":
            raise Invalid(f"{user.login!r} is an organization; only users can be members")
        if user.disabled:
            raise Forbidden(f"the account {user.login!r} is disabled")
        return user

    async def _announce_membership(self, org: str, login: str) -> None:
        """`membership.changed`: login empty means the change concerns the whole org (a
        group's permission or packages), so every cached permission on it is stale."""
        if self.bus is None:
            return
        event = new_event(org, membership_changed=events_pb2.MembershipChanged(org=org, login=login))
        try:
            await self.bus.publish(event)
        except Exception:
            # Stored already; a lost event only lets a cached permission live out its TTL.
            log.exception("could not publish membership.changed for %s/%s", org, login)


def _token_target(record: TokenRecord) -> str:
    return f"{record.login}/tokens/{record.name}"


def _group_key(name: str) -> str:
    return (name or "").strip().lower()


def _check_group_name(name: str) -> str:
    key = _group_key(name)
    if not accounts.LOGIN_RE.fullmatch(key):
        raise Invalid(f"invalid group name {name!r}: use 1 to 64 letters, digits, '-' and '_'")
    return key


def _normalize_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    # anaconda-client flattens `--scopes 'a b'`; other callers may not, so split here too.
    names: list[str] = []
    for item in scopes or ():
        for s in item.split():
            if s not in names:
                names.append(s)
    unknown = scope_rules.unknown_scopes(names)
    if unknown:
        raise Invalid(f"unknown scope(s): {', '.join(unknown)}; known scopes: {', '.join(scope_rules.SCOPES)}")
    return tuple(names) or scope_rules.DEFAULT_SCOPES
