"""The committed gRPC stubs are exactly what protoc generates from protos/ (run `make protos`
after editing a .proto)."""

from __future__ import annotations

from pkgcloud_servicekit import protogen

COMMITTED = protogen.STUB_ROOT / "pkgcloud_protos"


def committed_stubs() -> dict[str, bytes]:
    return {str(p.relative_to(COMMITTED)): p.read_bytes() for p in COMMITTED.rglob("*_pb2*.py*")}


def test_committed_stubs_match_a_fresh_generation(tmp_path):
    written = protogen.generate(tmp_path)
    fresh = {str(p.relative_to(tmp_path / "pkgcloud_protos")): p.read_bytes() for p in written}
    committed = committed_stubs()
    assert fresh, "protoc generated nothing"
    assert sorted(set(fresh) - set(committed)) == [], "stubs missing from the repo: run `make protos`"
    assert sorted(set(committed) - set(fresh)) == [], "committed stubs without a .proto: delete them"
    stale = sorted(name for name in fresh if fresh[name] != committed[name])
    assert stale == [], f"stale stubs (run `make protos`): {stale}"


def test_every_proto_has_its_three_stubs():
    for proto in protogen.proto_files():
        stem = proto.relative_to(protogen.PROTO_ROOT / "pkgcloud_protos").with_suffix("")
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
            assert (COMMITTED / f"{stem}{suffix}").is_file(), f"{stem}{suffix}"
