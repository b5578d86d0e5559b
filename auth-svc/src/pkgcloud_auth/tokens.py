"""Opaque bearer tokens: generated here, shown once, stored only as their sha256.

The alphabet is base62 on purpose: conda reads tokens out of `/t/<token>/` URL paths and
anaconda-client's `-t` refuses values containing '.', '/' or '\\' (it takes them for file
paths), and '_'/'-' have caused trouble in URL parsers too; letters and digits survive every
client unescaped. A sha256 is enough at rest (no salt, no slow hash) because the token is
256 random bits, not something a person chose.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import string

ALPHABET = string.digits + string.ascii_letters  # base62
TOKEN_BITS = 256
TOKEN_LENGTH = math.ceil(TOKEN_BITS / math.log2(len(ALPHABET)))  # 43 characters
_ALPHABET_SET = frozenset(ALPHABET)


def new_token() -> str:
    """A fresh token of at least 256 bits of entropy from the OS CSPRNG."""
    return "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_LENGTH))


def token_sha256(token: str) -> str:
    """The hex digest the stores keep and the gateway's credential cache is keyed by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Cheap shape check so garbage never reaches the database (a range, not the exact
    length, so tokens issued under another length stay valid)."""
    return 32 <= len(token) <= 128 and all(c in _ALPHABET_SET for c in token)


def same_digest(a: str, b: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


def new_token_id() -> str:
    """The public id of a token (shown in listings, used to revoke); not a secret."""
    return secrets.token_hex(12)
