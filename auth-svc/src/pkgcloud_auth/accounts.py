"""The rules for logins, emails, passwords and names: normalise or raise errors.Invalid."""

from __future__ import annotations

import re

from pkgcloud_servicekit.errors import Invalid

LOGIN_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
MIN_PASSWORD = 8
# argon2 takes any length, but hashing megabytes per attempt would be a cheap way to burn CPU.
MAX_PASSWORD = 1024

# Names that would shadow a URL prefix or a web UI page, or impersonate the operator.
RESERVED_LOGINS = frozenset({
    "about", "account", "accounts", "admin", "administrator", "api", "apps", "auth", "authentication",
    "authentications", "channels", "conda", "dashboard", "dist", "docs", "download", "downloads",
    "envs", "explore", "groups", "healthz", "help", "label", "login", "logout", "metrics", "notebooks",
    "org", "orgs", "organization", "organizations", "package", "packages", "pkgcloud", "pypi", "readyz",
    "register", "release", "releases", "root", "scopes", "search", "settings", "signup", "simple",
    "stage", "static", "system", "t", "token", "tokens", "upload", "user", "users", "www",
})


def normalize_login(login: str) -> str:
    """The stored (lowercase) form of a login that is not yet known to be valid; Invalid if
    it could never be one. Used when looking a user up too, so 'Alice' finds 'alice'."""
    value = (login or "").strip().lower()
    if not value:
        raise Invalid("a login is required")
    if not LOGIN_RE.fullmatch(value):
        raise Invalid(
            f"invalid login {login!r}: use 1 to 64 letters, digits, '-' and '_', starting with a letter or digit"
        )
    return value


def check_new_login(login: str) -> str:
    value = normalize_login(login)
    if value in RESERVED_LOGINS:
        raise Invalid(f"the login {value!r} is reserved; choose another")
    return value


def check_email(email: str) -> str:
    value = (email or "").strip()
    if not value:
        raise Invalid("an email address is required")
    if len(value) > 254 or not EMAIL_RE.fullmatch(value):
        raise Invalid(f"invalid email address {email!r}")
    return value


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"the password must have at most {MAX_PASSWORD} characters")
    return password


def check_display_name(name: str) -> str:
    value = (name or "").strip()
    if len(value) > 200 or any(ord(c) < 32 for c in value):
        raise Invalid("the name must be at most 200 printable characters")
    return value


def check_description(description: str) -> str:
    value = (description or "").strip()
    if len(value) > 2000 or any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise Invalid("the description must be at most 2000 printable characters")
    return value
