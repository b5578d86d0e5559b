"""Cost of a token: a token-authenticated conda index GET against an anonymous one, on
`pkgcloud all` (aiohttp client loop, keep-alive, N concurrent workers).

    .venv/bin/python bench/token_auth.py [--seconds 5] [--concurrency 16]

Prints requests/s and mean latency of both and the ratio; target: token <= 1.2x anonymous.
The token is resolved by auth-svc once and then served from the gateway's one-second
credential cache; the owner's view is a blob read like the public one.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from e2e_harness import conda_packages
from e2e_harness.topology import START

PW = "bench-password-1"


def _setup(topo, work: Path) -> str:
    assert topo.pkgcloud("admin", "create-user", "bench", "--password", PW, "--email", "b@example.com").returncode == 0
    token = requests.post(f"{topo.api_url}/authentications", json={"note": "bench", "scopes": ["conda:download"]},
                          auth=("bench", PW), timeout=30).json()["token"]
    admin = requests.post(f"{topo.api_url}/authentications", json={"note": "setup"}, auth=("bench", PW), timeout=30).json()["token"]
    h = {"Authorization": f"token {admin}"}
    for public in (True, False):
        name = "pub" if public else "sec"
        requests.post(f"{topo.api_url}/package/bench/{name}", json={"public": public}, headers=h, timeout=30).raise_for_status()
        requests.post(f"{topo.api_url}/release/bench/{name}/1.0", json={}, headers=h, timeout=30).raise_for_status()
        path = conda_packages.build(work / name, name, "1.0", ext=".tar.bz2")
        data = path.read_bytes()
        basename = f"noarch/{path.name}"
        st = requests.post(f"{topo.api_url}/stage/bench/{name}/1.0/{basename}", headers=h, timeout=30,
                           json={"distribution_type": "conda", "sha256": hashlib.sha256(data).hexdigest(), "attrs": {}, "channels": []}).json()
        requests.post(st["post_url"], data=st["form_data"], files={"file": (path.name, data)}, timeout=30).raise_for_status()
        requests.post(f"{topo.api_url}/commit/bench/{name}/1.0/{basename}", json={"dist_id": st["dist_id"]}, headers=h, timeout=30).raise_for_status()
    url = f"{topo.base_url}/conda/bench/noarch/repodata.json"
    deadline = time.monotonic() + 60
    while "sec-1.0" not in requests.get(url, headers=h, timeout=10).text or "pub-1.0" not in requests.get(url, timeout=10).text:
        assert time.monotonic() < deadline, "index not published"
        time.sleep(0.2)
    return token


async def _load(url: str, headers: dict, seconds: float, concurrency: int) -> tuple[float, float]:
    """(requests per second, mean latency in ms)."""
    done = 0
    latency = 0.0
    stop_at = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def worker():
            nonlocal done, latency
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                async with session.get(url, headers=headers) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latency += time.perf_counter() - t0
                done += 1

        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - t0
    return done / elapsed, latency / max(done, 1) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        topo = START["all"](Path(tmp) / "data")
        try:
            token = _setup(topo, Path(tmp))
            url = f"{topo.base_url}/conda/bench/noarch/repodata.json"
            asyncio.run(_load(url, {}, 1, args.concurrency))  # warm-up
            results = {}
            # interleaved rounds: drift of the machine hits both alike
            for _ in range(2):
                for name, headers in (("anonymous", {}), ("token", {"Authorization": f"token {token}"})):
                    rps, ms = asyncio.run(_load(url, headers, args.seconds / 2, args.concurrency))
                    prev = results.get(name, (0.0, 0.0))
                    results[name] = (prev[0] + rps / 2, prev[1] + ms / 2)
        finally:
            topo.stop()
    (a_rps, a_ms), (t_rps, t_ms) = results["anonymous"], results["token"]
    ratio = t_ms / a_ms
    print(f"anonymous: {a_rps:8.0f} req/s  {a_ms:6.2f} ms mean")
    print(f"token:     {t_rps:8.0f} req/s  {t_ms:6.2f} ms mean")
    print(f"cost ratio (token / anonymous latency): {ratio:.2f}  (target <= 1.20) {'OK' if ratio <= 1.2 else 'OVER'}")


if __name__ == "__main__":
    main()
