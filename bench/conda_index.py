"""Conda channel index at scale: a 100,000-record channel loaded through the registry's bulk
path (BulkImportFiles), then

- full rebuild: `pkgcloud admin rebuild-index` (registry read + index-svc store resync +
  both views written), and the publisher alone on the same records in-process;
- the same against `rattler.index.index_fs` on real (tiny) .tar.bz2 archives carrying the
  same index.json fields: --fs-records of them (default 20,000: writing 100k archives takes
  minutes), the builder timed on exactly those records;
- one upload -> visible in the served repodata.json (polled with If-None-Match), p50/p95
  over --uploads uploads to the biggest subdir, in all-in-one;
- that update's cost (index-svc store + publisher, in-process) as a fraction of a full rebuild;
- 304 revalidation latency (If-None-Match, keep-alive connection), p50;
- repodata.json.zst GET throughput, gateway against nginx serving the same file (wrk, 32
  connections).

    .venv/bin/python bench/conda_index.py [--records 100000] [--fs-records 20000] [--uploads 30] [--duration 10]

Needs wrk and nginx on PATH (Debian: apt-get install -y wrk nginx-light).
Targets: visible < 300 ms p50; an update < 5 % of a full rebuild; a full rebuild no slower
than index_fs; 304 p50 < 2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bz2
import hashlib
import http.client
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from e2e_harness.topology import PKGCLOUD, START  # noqa: E402
from pypi_simple import Procs, start_nginx, wrk  # noqa: E402

OWNER = "bench"
PASSWORD = "bench-password-1"
SUBDIRS = (("linux-64", 0.40), ("noarch", 0.25), ("osx-arm64", 0.15), ("win-64", 0.10), ("linux-aarch64", 0.10))
PYTHONS = ("3.10", "3.11", "3.12")
WORDS = ("py", "lib", "data", "fast", "geo", "net", "ml", "sci", "io", "web", "cloud", "stat", "bio", "img", "text",
         "json", "yaml", "zip", "sql", "http", "async", "cli", "test", "plot", "grid")
COMMON_DEPS = ("numpy >=1.23", "requests", "pyyaml >=6", "packaging", "typing_extensions >=4.5", "attrs", "six", "certifi")


# --- the records ----------------------------------------------------------------------------
def synthetic_records(n: int, seed: int = 7) -> list[dict]:
    """n index.json-like records with a realistic spread: a few thousand names, most with a
    handful of versions and a few with hundreds; arch builds per Python, noarch ones once."""
    rnd = random.Random(seed)
    out: list[dict] = []
    i = 0
    while len(out) < n:
        name = f"{WORDS[i % len(WORDS)]}{WORDS[(i // len(WORDS)) % len(WORDS)]}-{i}"
        i += 1
        subdir = rnd.choices([s for s, _ in SUBDIRS], [w for _, w in SUBDIRS])[0]
        versions = max(1, int(rnd.paretovariate(1.3)))
        major, minor, patch = rnd.randint(0, 5), rnd.randint(0, 20), 0
        deps = rnd.sample(COMMON_DEPS, rnd.randint(0, 3))
        for _ in range(min(versions, 400)):
            patch += 1
            if rnd.random() < 0.2:
                minor, patch = minor + 1, 0
            version = f"{major}.{minor}.{patch}"
            builds = [("pyhd8ed1ab_0", None)] if subdir == "noarch" else [
                (f"py{py.replace('.', '')}h{rnd.getrandbits(28):07x}_{rnd.randint(0, 2)}", py) for py in PYTHONS]
            for build, py in builds:
                rec = {
                    "name": name, "version": version, "build": build, "build_number": int(build.rsplit("_", 1)[1]),
                    "depends": ([f"python >={py},<{py[:2]}{int(py[2:]) + 1}.0a0", "libgcc-ng >=12"] if py else ["python >=3.8"]) + deps,
                    "license": rnd.choice(("MIT", "BSD-3-Clause", "Apache-2.0")), "subdir": subdir,
                    "timestamp": 1_600_000_000_000 + rnd.randint(0, 10**11),
                }
                if subdir == "noarch":
                    rec["noarch"] = "python"
                else:
                    rec["arch"], rec["platform"] = {"linux-64": ("x86_64", "linux"), "osx-arm64": ("arm64", "osx"),
                                                    "win-64": ("x86_64", "win"), "linux-aarch64": ("aarch64", "linux")}[subdir]
                if py and rnd.random() < 0.1:
                    rec["constrains"] = [f"{name}-base {version}"]
                out.append(rec)
                if len(out) == n:
                    return out
    return out


def fn_of(rec: dict, ext: str) -> str:
    return f"{rec['name']}-{rec['version']}-{rec['build']}{ext}"


def tar_bz2(rec: dict) -> bytes:
    """A real (tiny) conda package: info/index.json, about.json, paths.json, one file."""
    content = f"{rec['name']} {rec['version']}\n".encode()
    members = {
        "info/index.json": json.dumps(rec, indent=2, sort_keys=True).encode(),
        "info/about.json": json.dumps({"summary": f"{rec['name']} package", "license": rec["license"]}).encode(),
        "info/paths.json": json.dumps({"paths": [{"_path": f"share/{rec['name']}.txt", "path_type": "hardlink",
                                                  "sha256": hashlib.sha256(content).hexdigest(), "size_in_bytes": len(content)}],
                                       "paths_version": 1}).encode(),
        "info/files": f"share/{rec['name']}.txt\n".encode(),
        f"share/{rec['name']}.txt": content,
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            tf.addfile(info, io.BytesIO(data))
    return bz2.compress(raw.getvalue(), 1)


def attrs_of(rec: dict, md5: str, sha256: str, size: int) -> dict:
    """What the registry's conda inspector stores for such a package."""
    return {**rec, "about": {"summary": f"{rec['name']} package", "license": rec["license"]}, "md5": md5, "sha256": sha256, "size": size}


def file_records(recs: list[dict], *, real: bool, out_dir: Path | None = None):
    """(basename, attrs) per record; real=True writes the archives under out_dir/<subdir>/."""
    rnd = random.Random(11)
    for rec in recs:
        if real:
            data = tar_bz2(rec)
            fn = fn_of(rec, ".tar.bz2")
            (out_dir / rec["subdir"] / fn).write_bytes(data)
            md5, sha, size = hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data)
        else:
            fn = fn_of(rec, ".conda" if rnd.random() < 0.6 else ".tar.bz2")
            sha = hashlib.sha256(fn.encode()).hexdigest()
            md5, size = hashlib.md5(fn.encode()).hexdigest(), 4000 + rnd.randint(0, 10**7)
        yield f"{rec['subdir']}/{fn}", attrs_of(rec, md5, sha, size)


# --- pkgcloud pieces --------------------------------------------------------------------------
def conda_files(items, upload_time_ms: int = 1_700_000_000_000):
    from pkgcloud_index.conda.records import CondaFile

    return [CondaFile(package=a["name"], version=a["version"], basename=b, subdir=a["subdir"], labels=("main",), public=True,
                      sha256=a["sha256"], size=a["size"], upload_time_ms=upload_time_ms + i, attrs_json=json.dumps(a, sort_keys=True))
            for i, (b, a) in enumerate(items)]


async def bulk_import(registry_addr: str, items: list[tuple[str, dict]]) -> None:
    from pkgcloud_protos.v1 import common_pb2, registry_pb2, registry_pb2_grpc
    from pkgcloud_servicekit.blobstore import content_key
    from pkgcloud_servicekit.grpc_plumbing import open_channel

    channel = open_channel(registry_addr)
    try:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        for start in range(0, len(items), 2000):
            batch = [common_pb2.FileRecord(
                owner=OWNER, package=a["name"], version=a["version"], basename=b, type="conda", subdir=a["subdir"], labels=["main"],
                size=a["size"], sha256=a["sha256"], md5=a["md5"], blob_key=content_key(a["sha256"]), attrs_json=json.dumps(a, sort_keys=True),
                upload_time_ms=1_700_000_000_000 + start + j,
            ) for j, (b, a) in enumerate(items[start:start + 2000])]
            await stub.BulkImportFiles(registry_pb2.BulkImportRequest(files=batch, public=True))
    finally:
        await channel.close()


def time_builder(files, out: Path) -> float:
    """The publisher's full rebuild (both views, every document, every shard) to a filesystem blob store."""
    from pkgcloud_index.conda.publisher import CondaIndexPublisher
    from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore

    async def run() -> float:
        blobs = FilesystemBlobStore(out)
        t0 = time.perf_counter()
        await CondaIndexPublisher(None, blobs).rebuild_from(OWNER, files)  # type: ignore[arg-type]
        return time.perf_counter() - t0

    return asyncio.run(run())


def time_index_fs(channel: Path) -> float:
    from rattler.index import index_fs

    t0 = time.perf_counter()
    asyncio.run(index_fs(channel, write_zst=True, write_shards=True, force=True))
    return time.perf_counter() - t0


def time_updates(files, tmp: Path, n: int) -> tuple[float, list[float]]:
    """In-process, as index-svc runs it: a full rebuild, then n single-file events (store +
    publisher) into the biggest subdir."""
    from pkgcloud_index.conda.publisher import CondaIndexPublisher
    from pkgcloud_index.store import AppliedEvent, IndexedFile, UpsertFile
    from pkgcloud_index.store.sqlite import SqliteIndexStore
    from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore

    async def run():
        store = SqliteIndexStore(tmp / "index.db")
        await store.open()
        blobs = FilesystemBlobStore(tmp / "blobs")
        pub = CondaIndexPublisher(store, blobs)
        indexed = [IndexedFile(owner=OWNER, package=f.package, version=f.version, basename=f.basename, type="conda", subdir=f.subdir,
                               labels=f.labels, sha256=f.sha256, size=f.size, public=True, attrs_json=f.attrs_json,
                               upload_time_ms=f.upload_time_ms) for f in files]
        await store.apply_event(AppliedEvent("load", "bench.load", OWNER, 0), [UpsertFile(f) for f in indexed])
        t0 = time.perf_counter()
        await pub.rebuild(OWNER)
        full = time.perf_counter() - t0
        updates = []
        for i in range(n):
            rec = synthetic_records(1, seed=1000 + i)[0] | {"name": "benchpkg", "version": f"9.0.{i}", "build": "py311h0000000_0",
                                                           "subdir": "linux-64", "arch": "x86_64", "platform": "linux"}
            rec.pop("noarch", None)
            bn = f"linux-64/{fn_of(rec, '.conda')}"
            a = attrs_of(rec, "0" * 32, hashlib.sha256(bn.encode()).hexdigest(), 5000)
            f = IndexedFile(owner=OWNER, package="benchpkg", version=rec["version"], basename=bn, type="conda", subdir="linux-64",
                            labels=("main",), sha256=a["sha256"], size=5000, public=True, attrs_json=json.dumps(a, sort_keys=True),
                            upload_time_ms=1_800_000_000_000 + i)
            t0 = time.perf_counter()
            changes = [UpsertFile(f)]
            await store.apply_event(AppliedEvent(f"u{i}", "file.committed", OWNER, 0), changes)
            await pub.publish(OWNER, changes)
            updates.append(time.perf_counter() - t0)
        await store.close()
        return full, updates

    return asyncio.run(run())


# --- through the running server -------------------------------------------------------------
def api_session(topo) -> requests.Session:
    r = requests.post(f"{topo.api_url}/authentications", auth=(OWNER, PASSWORD), json={"note": "bench"}, timeout=10)
    r.raise_for_status()
    s = requests.Session()
    s.headers["Authorization"] = f"token {r.json()['token']}"
    return s


def upload(topo, s: requests.Session, version: str) -> str:
    rec = {"name": "benchpkg", "version": version, "build": "0", "build_number": 0, "depends": ["python >=3.8"], "license": "MIT",
           "subdir": "linux-64", "arch": "x86_64", "platform": "linux", "timestamp": 1_700_000_000_000}
    data = tar_bz2(rec)
    fn = fn_of(rec, ".tar.bz2")
    path = f"{OWNER}/benchpkg/{version}/linux-64/{fn}"
    r = s.post(f"{topo.api_url}/release/{OWNER}/benchpkg/{version}", json={"requirements": [], "announce": None, "description": ""})
    assert r.status_code == 200, r.text
    r = s.post(f"{topo.api_url}/stage/{path}", json={"distribution_type": "conda", "attrs": {}, "channels": ["main"],
                                                   "sha256": hashlib.sha256(data).hexdigest(), "description": None})
    assert r.status_code == 200, r.text
    staged = r.json()
    fields = list(staged["form_data"].items()) + [("Content-Length", str(len(data))),
                                                  ("Content-MD5", base64.b64encode(hashlib.md5(data).digest()).decode())]
    up = requests.post(staged["post_url"], files=[(k, (None, v)) for k, v in fields] + [("file", (fn, data))], timeout=30)
    assert up.status_code == 201, up.text
    r = s.post(f"{topo.api_url}/commit/{path}", json={"dist_id": staged["dist_id"]})
    assert r.status_code == 200, r.text
    return fn


def percentile(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def start_nginx_zst(procs: Procs, tmp: Path, body: bytes) -> str:
    root = tmp / "nginx-root"
    (root / OWNER / "linux-64").mkdir(parents=True)
    (root / OWNER / "linux-64" / "repodata.json.zst").write_bytes(body)
    # on a listening socket the bench binds and nginx inherits (pypi_simple.start_nginx)
    port = start_nginx(procs, tmp, f"        root {root};\n        etag on;", http="    default_type application/zstd;")
    return f"http://127.0.0.1:{port}/{OWNER}/linux-64/repodata.json.zst"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--fs-records", type=int, default=20_000, help="records written as real archives for index_fs")
    parser.add_argument("--uploads", type=int, default=30)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per server")
    parser.add_argument("--gateway-processes", type=int, default=2, help="PKGCLOUD_GATEWAY_PROCESSES of the pkgcloud under test")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            print(f"{tool} is missing: apt-get install -y wrk nginx-light", file=sys.stderr)
            return 2
    res: dict[str, float] = {}
    recs = synthetic_records(args.records)
    with tempfile.TemporaryDirectory(prefix="pkgcloud-bench-conda-") as tmp_name:
        tmp = Path(tmp_name)
        os.chmod(tmp, 0o755)  # nginx's workers (nobody, when started as root) read the file there

        # 1. builder against index_fs on the same (real) packages
        fs_recs = recs[:: max(1, len(recs) // args.fs_records)][: args.fs_records]
        channel = tmp / "fs-channel"
        for s, _ in SUBDIRS:
            (channel / s).mkdir(parents=True)
        print(f"writing {len(fs_recs)} real .tar.bz2 packages for index_fs ...", flush=True)
        fs_items = list(file_records(fs_recs, real=True, out_dir=channel))
        res["index_fs"] = time_index_fs(channel)
        res["builder_fs_n"] = time_builder(conda_files(fs_items), tmp / "builder-fs")
        print(f"  index_fs {res['index_fs']:.2f} s, pkgcloud publisher {res['builder_fs_n']:.2f} s", flush=True)

        # 2. full rebuild and update cost, in-process, at full size
        items = list(file_records(recs, real=False))
        files = conda_files(items)
        res["builder_full"] = time_builder(files, tmp / "builder-full")
        print(f"  publisher full rebuild of {len(files)} records: {res['builder_full']:.2f} s", flush=True)
        full_store, updates = time_updates(files, tmp / "updates", args.uploads)
        res["full_store"], res["update_p50"], res["update_p95"] = full_store, statistics.median(updates), percentile(updates, 0.95)
        print(f"  index-svc rebuild {full_store:.2f} s; one update p50 {res['update_p50'] * 1000:.0f} ms", flush=True)

        # 3. the running server (all-in-one)
        procs = Procs()
        topo = START["all"](tmp / "pkgcloud", PKGCLOUD_GATEWAY_PROCESSES=str(args.gateway_processes))
        try:
            assert topo.pkgcloud("admin", "create-user", OWNER, "--password", PASSWORD, "--email", "b@example.com").returncode == 0
            print(f"bulk-importing {len(items)} records ...", flush=True)
            t0 = time.perf_counter()
            asyncio.run(bulk_import(topo.grpc["registry"], items))
            print(f"  {time.perf_counter() - t0:.1f} s", flush=True)
            t0 = time.perf_counter()
            out = subprocess.run([str(PKGCLOUD), "admin", "rebuild-index", OWNER], env=topo.target_env("index"), capture_output=True,
                                 text=True, cwd=topo.data_dir, timeout=1800)
            res["rebuild_cmd"] = time.perf_counter() - t0
            assert out.returncode == 0, out.stderr
            print(f"  {out.stdout.strip()} ({res['rebuild_cmd']:.2f} s with the command's start-up)", flush=True)

            s = api_session(topo)
            r = s.post(f"{topo.api_url}/package/{OWNER}/benchpkg", json={"public": True, "public_attrs": {"summary": "b"}})
            assert r.status_code == 200, r.text
            conda = f"{topo.base_url}/conda/{OWNER}/linux-64/repodata.json"
            poller = requests.Session()
            etag = poller.get(conda).headers["ETag"]
            visible = []
            for i in range(args.uploads):
                fn = upload(topo, s, f"1.0.{i}")
                t0 = time.perf_counter()
                while True:
                    r = poller.get(conda, headers={"If-None-Match": etag})
                    if r.status_code == 200:
                        etag = r.headers["ETag"]
                        if f'"{fn}"'.encode() in r.content:
                            break
                    if time.perf_counter() - t0 > 30:
                        raise RuntimeError(f"{fn} not visible after 30 s")
                    time.sleep(0.002)
                visible.append(time.perf_counter() - t0)
            res["visible_p50"], res["visible_p95"] = statistics.median(visible), percentile(visible, 0.95)
            n_linux = len(json.loads(poller.get(conda).content)["packages.conda"]) + len(json.loads(poller.get(conda).content)["packages"])
            print(f"  visible p50 {res['visible_p50'] * 1000:.0f} ms p95 {res['visible_p95'] * 1000:.0f} ms (linux-64: {n_linux} records)", flush=True)

            # 304s on a kept-alive connection
            conn = http.client.HTTPConnection("127.0.0.1", int(topo.base_url.rsplit(":", 1)[1]))
            path = f"/conda/{OWNER}/linux-64/repodata.json"
            lat = []
            for _ in range(500):
                t0 = time.perf_counter()
                conn.request("GET", path, headers={"If-None-Match": etag})
                r = conn.getresponse()
                r.read()
                lat.append(time.perf_counter() - t0)
                assert r.status == 304, r.status
            conn.close()
            res["304_p50"], res["304_p95"] = statistics.median(lat), percentile(lat, 0.95)

            # repodata.json.zst throughput
            zst_url = f"{conda}.zst"
            body = requests.get(zst_url).content
            res["zst_bytes"] = len(body)
            nginx = start_nginx_zst(procs, tmp, body)
            for name, url in (("gateway", zst_url), ("nginx", nginx)):
                wrk(url, 2, None)
                res[f"wrk_{name}"] = wrk(url, args.duration, None)
                print(f"  {name}: {res[f'wrk_{name}']:.0f} req/s", flush=True)
        finally:
            procs.stop()
            topo.stop()

    ms = 1000
    print(f"\nconda channel of {args.records} records ({os.cpu_count()} cores); index_fs comparison on {len(fs_recs)} real .tar.bz2\n")
    print("| measure | value |")
    print("|---|---:|")
    rows = [
        (f"index_fs, {len(fs_recs)} archives", f"{res['index_fs']:.2f} s"),
        (f"pkgcloud publisher, same {len(fs_recs)} records (both views)", f"{res['builder_fs_n']:.2f} s"),
        (f"pkgcloud publisher, {args.records} records (both views)", f"{res['builder_full']:.2f} s"),
        (f"`pkgcloud admin rebuild-index`, {args.records} records (registry read + store resync + publish)", f"{res['rebuild_cmd']:.2f} s"),
        ("one upload -> visible in repodata.json, p50 / p95 (all-in-one)", f"{res['visible_p50'] * ms:.0f} / {res['visible_p95'] * ms:.0f} ms"),
        ("one update (store + publisher), p50 / p95", f"{res['update_p50'] * ms:.0f} / {res['update_p95'] * ms:.0f} ms"),
        ("update / full rebuild (index-svc)", f"{res['update_p50'] / res['full_store'] * 100:.1f} %"),
        ("304 revalidation, p50 / p95", f"{res['304_p50'] * ms:.2f} / {res['304_p95'] * ms:.2f} ms"),
        (f"repodata.json.zst GET ({res['zst_bytes'] / 1e6:.1f} MB), gateway", f"{res['wrk_gateway']:.0f} req/s"),
        ("repodata.json.zst GET, nginx", f"{res['wrk_nginx']:.0f} req/s"),
    ]
    for k, v in rows:
        print(f"| {k} | {v} |")
    checks = [
        ("visible p50 < 300 ms", res["visible_p50"] < 0.300),
        ("update < 5 % of a full rebuild", res["update_p50"] / res["full_store"] < 0.05),
        ("full rebuild no slower than index_fs (same records)", res["builder_fs_n"] <= res["index_fs"]),
        ("304 p50 < 2 ms", res["304_p50"] < 0.002),
    ]
    print()
    for what, ok in checks:
        print(f"{'ok  ' if ok else 'MISS'} {what}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
