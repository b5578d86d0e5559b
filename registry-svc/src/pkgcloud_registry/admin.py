"""Operator commands: `pkgcloud admin yank|unyank OWNER PACKAGE VERSION [BASENAME...]`.

They talk to the running registry over gRPC (SetReleaseYanked, the RPC the HTTP API uses),
so the change, its file.yank_changed event and its audit entry go through the same path as a
yank from the HTTP API and the index pages follow. Without BASENAME every Python
distribution of the release is (un)yanked, as PyPI yanks whole releases.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import grpc
from pkgcloud_protos.v1 import common_pb2, registry_pb2, registry_pb2_grpc
from pkgcloud_servicekit.errors import from_rpc_error
from pkgcloud_servicekit.grpc_plumbing import open_channel
from pkgcloud_servicekit.settings import DEFAULT_GRPC_PORTS, Settings


def registry_address(settings: Settings) -> str:
    if settings.registry_addr:
        return settings.registry_addr
    sock = settings.data_dir.resolve() / "run" / "registry.sock"
    return f"unix:{sock}" if Path(sock).exists() else f"127.0.0.1:{DEFAULT_GRPC_PORTS['registry']}"


async def set_release_yanked(
    stub: registry_pb2_grpc.RegistryServiceStub, owner: str, package: str, version: str, basenames: list[str], yanked: bool, reason: str,
) -> list[common_pb2.FileRecord]:
    resp = await stub.SetReleaseYanked(registry_pb2.SetReleaseYankedRequest(
        owner=owner, project=package, version=version, basenames=basenames, yanked=yanked, reason=reason,
    ))
    return list(resp.files)


def add_commands(sub: argparse._SubParsersAction) -> None:
    for name, yanked in (("yank", True), ("unyank", False)):
        p = sub.add_parser(name, help=f"{name} a release (or some of its files) of a PyPI project (PEP 592)")
        p.add_argument("owner", metavar="OWNER")
        p.add_argument("package", metavar="PACKAGE")
        p.add_argument("version", metavar="VERSION")
        p.add_argument("basenames", metavar="BASENAME", nargs="*", help="only these files (default: every distribution of the release)")
        if yanked:
            p.add_argument("--reason", default="", help="shown by pip when an == pin still installs the yanked file")
        p.set_defaults(run=_run, yanked=yanked)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    async def main() -> int:
        channel = open_channel(registry_address(settings))
        try:
            stub = registry_pb2_grpc.RegistryServiceStub(channel)
            files = await set_release_yanked(
                stub, args.owner, args.package, args.version, list(args.basenames), args.yanked, getattr(args, "reason", ""),
            )
        except grpc.aio.AioRpcError as e:
            print(f"error: {from_rpc_error(e).message}")
            return 1
        finally:
            await channel.close()
        for f in files:
            state = f"yanked ({f.yanked_reason})" if f.yanked and f.yanked_reason else "yanked" if f.yanked else "not yanked"
            print(f"{args.owner}/{f.package}/{f.version}/{f.basename}: {state}")
        return 0

    return asyncio.run(main())
