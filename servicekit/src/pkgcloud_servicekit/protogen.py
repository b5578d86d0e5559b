"""Generate the Python gRPC stubs from protos/ (`make protos`).

The stubs are committed so that a service image needs no protoc; a test regenerates them
into a temporary folder and fails when the committed ones differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PROTO_ROOT = REPO / "protos"
STUB_ROOT = REPO / "servicekit" / "src"


def proto_files() -> list[Path]:
    return sorted((PROTO_ROOT / "pkgcloud_protos").rglob("*.proto"))


def generate(out_dir: Path) -> list[Path]:
    """Write *_pb2.py, *_pb2.pyi and *_pb2_grpc.py for every .proto under out_dir."""
    import grpc_tools
    from grpc_tools import protoc  # dev dependency: only needed to regenerate

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *[str(p.relative_to(PROTO_ROOT)) for p in proto_files()],
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed")
    return sorted(p for p in (out_dir / "pkgcloud_protos").rglob("*_pb2*.py*"))


def main() -> None:
    written = generate(STUB_ROOT)
    for p in written:
        print(p.relative_to(REPO))


if __name__ == "__main__":
    sys.exit(main())
