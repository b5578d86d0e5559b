"""Peak RSS of every pkgcloud process while a large file goes up and comes down through the
unmodified anaconda-client 1.16.0 (target: every server process under 200 MB).

    .venv/bin/python bench/upload_download_rss.py [--size-mib 1024] [--topology all|split|both]

Prints one line per process with its peak RSS, plus the upload and download wall times.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from e2e_harness.anaconda_cli import AnacondaCLI
from e2e_harness.topology import START

TARGET_MB = 200


class RssSampler(threading.Thread):
    def __init__(self, pids: dict[str, int], interval: float = 0.05):
        super().__init__(daemon=True)
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.peak = {name: 0 for name in pids}
        self.interval = interval
        self.stop_flag = threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            for name, p in self.procs.items():
                try:
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                self.peak[name] = max(self.peak[name], rss)
            time.sleep(self.interval)


def write_random(path: Path, size_mib: int) -> str:
    h = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for i in range(size_mib):
            # cheap variation per MiB so no two blocks are equal
            chunk = i.to_bytes(8, "little") + block[8:]
            h.update(chunk)
            f.write(chunk)
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run(topology: str, size_mib: int) -> bool:
    with tempfile.TemporaryDirectory(prefix=f"pkgcloud-bench-{topology}-") as tmp:
        tmp = Path(tmp)
        topo = START[topology](tmp / "server")
        try:
            assert topo.pkgcloud("admin", "create-user", "bench", "--password", "bench-password-1", "--email", "b@example.com").returncode == 0
            cli = AnacondaCLI(tmp / "home", topo.api_url)
            assert "login successful" in cli.output("login", "--username", "bench", "--password", "bench-password-1")
            src = tmp / "big.bin"
            digest = write_random(src, size_mib)
            sampler = RssSampler({name: p.pid for name, p in topo.procs.items()})
            sampler.start()
            t0 = time.perf_counter()
            out = cli.output("upload", "--package-type", "file", "--package", "big", "--version", "1", "--summary", "big", str(src), timeout=3600)
            t_up = time.perf_counter() - t0
            assert "Upload complete" in out, out
            dl = tmp / "dl"
            dl.mkdir()
            t0 = time.perf_counter()
            cli.run("download", "bench/big", cwd=dl, timeout=3600)
            t_down = time.perf_counter() - t0
            sampler.stop_flag.set()
            sampler.join()
            ok_digest = sha256_file(dl / "big.bin") == digest
            print(f"\n[{topology}] {size_mib} MiB: upload {t_up:.1f} s ({size_mib / t_up:.0f} MiB/s), "
                  f"download {t_down:.1f} s ({size_mib / t_down:.0f} MiB/s), bytes identical: {ok_digest}")
            ok = ok_digest
            for name, peak in sampler.peak.items():
                mb = peak / 1e6
                verdict = "ok" if mb < TARGET_MB else "OVER TARGET"
                ok &= mb < TARGET_MB
                print(f"  {name:10s} peak RSS {mb:7.1f} MB  ({verdict}, target < {TARGET_MB} MB)")
            return ok
        finally:
            topo.stop()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--topology", choices=["all", "split", "both"], default="both")
    a = ap.parse_args()
    tops = ["all", "split"] if a.topology == "both" else [a.topology]
    results = [run(t, a.size_mib) for t in tops]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
