"""Operator commands: `pkgcloud admin create-user|create-token|disable-user|enable-user`.

They open the configured store directly (no running server needed; SQLite's WAL and
busy timeout let them share the file with a running auth-svc), so the first account can
be made before anything is started.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from pkgcloud_servicekit import audit
from pkgcloud_servicekit.errors import ServiceError
from pkgcloud_servicekit.settings import Settings

from .core import AuthCore
from .store import make_auth_store


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("create-user", help="create a user account (prints its login)")
    p.add_argument("login", metavar="NAME")
    p.add_argument("--email", required=True)
    pw = p.add_mutually_exclusive_group(required=True)
    pw.add_argument("--password", help="the password (visible to other local users via ps; see --password-stdin)")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.add_argument("--name", default="", help="display name")
    p.set_defaults(run=_command(_create_user))

    p = sub.add_parser("create-token", help="create a token for a user (prints the token)")
    p.add_argument("login", metavar="NAME")
    p.add_argument("--scopes", action="extend", nargs="+", default=[],
                   help="scopes, e.g. --scopes 'repos conda:download' (default: all)")
    p.add_argument("--name", dest="token_name", default="admin", help="the token's name")
    p.add_argument("--max-age", type=int, default=0, help="seconds until it expires (0: never)")
    p.set_defaults(run=_command(_create_token))

    for cmd, disabled in (("disable-user", True), ("enable-user", False)):
        p = sub.add_parser(cmd, help=f"{'disable' if disabled else 're-enable'} an account")
        p.add_argument("login", metavar="NAME")
        p.set_defaults(run=_command(_set_disabled), disabled=disabled)


async def _create_user(core: AuthCore, args: argparse.Namespace) -> str:
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else args.password
    user = await core.create_user(args.login, args.email, password, args.name)
    return user.login


async def _create_token(core: AuthCore, args: argparse.Namespace) -> str:
    token, _record = await core.create_token(args.login, args.token_name, args.scopes, args.max_age, hostname="pkgcloud-admin")
    return token


async def _set_disabled(core: AuthCore, args: argparse.Namespace) -> str:
    user = await core.set_disabled(args.login, args.disabled)
    return f"{user.login} {'disabled' if user.disabled else 'enabled'}"


def _command(fn: Callable[[AuthCore, argparse.Namespace], Awaitable[str]]) -> Callable[[argparse.Namespace, Settings], int]:
    def run(args: argparse.Namespace, settings: Settings) -> int:
        try:
            print(asyncio.run(_with_core(settings, fn, args)))
        except ServiceError as e:
            print(f"pkgcloud admin {args.admin_command}: error: {e.message}", file=sys.stderr)
            return 1
        return 0

    return run


async def _with_core(settings: Settings, fn, args: argparse.Namespace) -> str:
    store = make_auth_store(settings)
    await store.open()
    # what these commands change is recorded as done by the operator
    audit.actor_var.set(audit.Actor(login=audit.OPERATOR, token=None, client="local"))
    try:
        return await fn(AuthCore(store, bus=None), args)
    finally:
        await store.close()
