"""Password hashing with argon2id (argon2-cffi).

Hashing is deliberately slow (tens of milliseconds, 64 MiB by default), so it runs in a
worker thread: the event loop keeps serving token lookups while a login is being checked.
"""

from __future__ import annotations

import asyncio

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Passwords:
    """Hash, verify and upgrade password hashes; the hasher's parameters are the policy."""

    def __init__(self, hasher: argon2.PasswordHasher | None = None):
        self.hasher = hasher or argon2.PasswordHasher()
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` matches; False on a mismatch or an unreadable hash."""
        try:
            return await asyncio.to_thread(self.hasher.verify, password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the current policy."""
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def waste_time(self, password: str) -> None:
        """Spend as long as a real verification, so an unknown login is not told apart from
        a wrong password by the response time."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("pkgcloud: no such user")
        await self.verify(self._dummy_hash, password)
