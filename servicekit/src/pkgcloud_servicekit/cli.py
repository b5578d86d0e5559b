"""The `pkgcloud` command: `all`, `serve --target X`, and the commands services add."""

from __future__ import annotations

import argparse
import asyncio
import sys

from .logs import setup_logging
from .settings import Settings
from .targets import discover_targets, run_forever

# Consumers start before the registry whose relay feeds them and stop after it, so no event
# is published in-process while its consumers are already gone.
ALL_TARGETS = ["auth", "index", "render", "registry", "gateway"]


def _banner(settings: Settings) -> None:
    url = settings.effective_public_url()
    print(
        f"""
pkgcloud is running (all-in-one), data in {settings.data_dir.resolve()}

  Create the first user (in another shell):
    .venv/bin/pkgcloud admin create-user alice --password 'change-me' --email alice@example.com
    (or: curl -X POST {url}/api/user -H 'Content-Type: application/json' \\
          -d '{{"login": "alice", "password": "change-me", "email": "alice@example.com"}}')

  anaconda-client:
    anaconda config --set sites.local.url {url}/api
    anaconda config --set default_site local
    anaconda login --username alice --password 'change-me'
    anaconda upload --package-type file --package hello --version 1.0 --summary 'Hello' hello.txt

  pip:    pip install --index-url {url}/pypi/alice/simple/ PACKAGE
          (private packages: {url}/pypi/t/<TOKEN>/alice/simple/)
  conda:  conda install -c {url}/conda/alice PACKAGE
          (labels: {url}/conda/alice/label/dev; private: {url}/conda/t/<TOKEN>/alice)

  health: {url}/healthz   metrics: {url}/metrics
  Stop with Ctrl-C.
""",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pkgcloud", description="pkgcloud: a self-hostable package cloud")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("all", help="every service in one process (embedded SQLite, filesystem blobs, in-process bus)")
    serve = sub.add_parser("serve", help="one service per process, configured by environment")
    serve.add_argument("--target", required=True, choices=ALL_TARGETS)
    targets = discover_targets()
    admin = sub.add_parser("admin", help="operator commands")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    for target in targets.values():
        if target.add_commands:
            target.add_commands(admin_sub)
    args = parser.parse_args(argv)
    settings = Settings()
    setup_logging(settings.log_level, settings.log_format)

    if args.command == "all":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        asyncio.run(run_forever(settings, ALL_TARGETS, "all", on_started=lambda _s: _banner(settings)))
    elif args.command == "serve":
        asyncio.run(run_forever(settings, [args.target], "single"))
    elif args.command == "admin":
        rc = args.run(args, settings)
        sys.exit(rc or 0)


if __name__ == "__main__":
    main()
