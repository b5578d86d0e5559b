"""`pkgcloud admin create-user|create-token|disable-user` as an operator runs them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pkgcloud_auth.core import AuthCore
from pkgcloud_auth.store.sqlite import SqliteAuthStore

PKGCLOUD = Path(sys.executable).parent / "pkgcloud"


def admin(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PKGCLOUD_")}
    env.update(PKGCLOUD_DATA_DIR=str(data_dir), PKGCLOUD_LOG_FORMAT="text")
    return subprocess.run([str(PKGCLOUD), "admin", *args], env=env, input=stdin, capture_output=True, text=True, timeout=60)


async def with_core(data_dir: Path, fn):
    store = SqliteAuthStore(data_dir / "db" / "auth.sqlite3")
    await store.open()
    try:
        return await fn(AuthCore(store, None))
    finally:
        await store.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    # One directory and one user for the module: each `pkgcloud` start costs a second.
    d = tmp_path_factory.mktemp("pkgcloud-admin")
    r = admin(d, "create-user", "Alice", "--password", "s3cret-pw", "--email", "alice@example.com", "--name", "Alice")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "alice"
    return d


def test_created_user_can_log_in(data_dir):
    user = asyncio.run(with_core(data_dir, lambda core: core.check_password("alice", "s3cret-pw")))
    assert (user.login, user.email, user.name) == ("alice", "alice@example.com", "Alice")


def test_taken_name_is_a_clear_error(data_dir):
    r = admin(data_dir, "create-user", "ALICE", "--password", "another-pw", "--email", "a2@example.com")
    assert r.returncode == 1
    assert "login 'alice' is already taken" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("args, message", [
    (["api", "--password", "s3cret-pw", "--email", "x@example.com"], "reserved"),
    (["bob", "--password", "short", "--email", "x@example.com"], "at least 8 characters"),
    (["bob", "--password", "s3cret-pw", "--email", "not-an-email"], "invalid email"),
])
def test_bad_input_is_a_clear_error(data_dir, args, message):
    r = admin(data_dir, "create-user", *args)
    assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_password_from_stdin(data_dir):
    r = admin(data_dir, "create-user", "carol", "--password-stdin", "--email", "carol@example.com", stdin="from stdin pw\n")
    assert r.returncode == 0, r.stderr
    asyncio.run(with_core(data_dir, lambda core: core.check_password("carol", "from stdin pw")))


def test_create_token_prints_a_working_token(data_dir):
    r = admin(data_dir, "create-token", "alice", "--scopes", "repos conda:download", "--name", "ci", "--max-age", "600")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    resolved = asyncio.run(with_core(data_dir, lambda core: core.resolve_token(token)))
    assert (resolved.user.login, resolved.token.name, resolved.token.scopes) == ("alice", "ci", ("repos", "conda:download"))
    assert resolved.token.expires_at_ms == resolved.token.created_at_ms + 600_000

    r = admin(data_dir, "create-token", "alice", "--scopes", "bogus")
    assert r.returncode == 1 and "unknown scope(s): bogus" in r.stderr


def test_disable_and_enable_user(data_dir):
    assert admin(data_dir, "create-user", "dave", "--password", "s3cret-pw", "--email", "d@example.com").returncode == 0
    r = admin(data_dir, "disable-user", "dave")
    assert r.returncode == 0 and r.stdout.strip() == "dave disabled"
    assert asyncio.run(with_core(data_dir, lambda core: core.get_user("dave"))).disabled
    assert admin(data_dir, "enable-user", "dave").stdout.strip() == "dave enabled"
    assert admin(data_dir, "disable-user", "nobody").returncode == 1
