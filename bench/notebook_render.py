"""Notebook rendering: first render against bare nbconvert, and cached views per second.

    .venv/bin/python bench/notebook_render.py          (needs `make clients` and Debian's wrk)

1. First render, small (20 cells) and ~5 MB (41 random 180x180 PNGs) notebooks: render-svc's
   whole path (read the blob, render in the warm worker pool, clean with nh3, store the page
   and its images) against bare nbconvert (a new default HTMLExporter per render, the way a
   one-off `jupyter nbconvert --to html` works, interpreter start excluded). Medians of 5,
   each render of a notebook never rendered before. Target: ours <= 1.2x bare.
2. Cached view: `pkgcloud all`, one uploaded notebook, `wrk -t2 -c32 -d10s` on loopback against
   /notebooks/<owner>/<name>. Target: >= 2,000 requests/s.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def png(w: int, h: int) -> bytes:
    raw = b"".join(b"\x00" + os.urandom(w * 3) for _ in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def notebook(large: bool, salt: str) -> bytes:
    cells = []
    for i in range(10):
        cells.append(new_markdown_cell(f"## Section {i} {salt}\n\nSome *markdown* with a [link](https://example.com) and a table:\n\n| a | b |\n|---|---|\n| 1 | 2 |"))
        cells.append(new_code_cell(f"x = {i}\nprint(x * 2)", outputs=[
            new_output("stream", name="stdout", text=f"{i * 2}\n"),
            new_output("execute_result", data={"text/html": f"<table><tr><td>{i}</td></tr></table>", "text/plain": str(i)}, execution_count=i),
        ]))
    if large:
        for _ in range(41):
            cells.append(new_code_cell("plot()", outputs=[new_output("display_data", data={"image/png": base64.b64encode(png(180, 180)).decode(), "text/plain": "<Figure>"})]))
    return nbformat.writes(new_notebook(cells=cells)).encode()


def bare_nbconvert(raw: bytes) -> float:
    from nbconvert import HTMLExporter

    t = time.perf_counter()
    nb = nbformat.reads(raw.decode(), as_version=4)
    HTMLExporter().from_notebook_node(nb)
    return time.perf_counter() - t


async def ours(samples: list[bytes]) -> list[float]:
    from pkgcloud_render.notebooks import NotebookRenders
    from pkgcloud_render.pool import RenderPool
    from pkgcloud_servicekit.blobstore import content_key
    from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore

    with tempfile.TemporaryDirectory() as tmp:
        blobs = FilesystemBlobStore(Path(tmp))
        pool = RenderPool(workers=1)
        await pool.warm_up()
        renders = NotebookRenders(blobs, pool)
        times = []
        try:
            for raw in samples:
                sha = hashlib.sha256(raw).hexdigest()
                await blobs.put_bytes(content_key(sha), raw)
                t = time.perf_counter()
                result = await renders.render(sha, content_key(sha))
                times.append(time.perf_counter() - t)
                assert result.status == "ok", result
        finally:
            pool.close()
        return times


def first_render() -> None:
    import warnings

    warnings.simplefilter("ignore")
    for large in (False, True):
        label = "5 MB" if large else "small"
        samples = [notebook(large, f"s{i}") for i in range(6)]
        bare_nbconvert(samples[0])  # imports and template loading are not a render
        bare = [bare_nbconvert(raw) for raw in samples[1:]]
        mine = asyncio.run(ours(samples[1:]))
        b, m = statistics.median(bare), statistics.median(mine)
        print(f"first render, {label} notebook ({len(samples[1]) / 1e6:.2f} MB): bare nbconvert {b * 1000:.0f} ms, "
              f"render-svc {m * 1000:.0f} ms, ratio {m / b:.2f} (target <= 1.2)")


def cached_view() -> None:
    from e2e_harness.anaconda_cli import AnacondaCLI
    from e2e_harness.topology import start_all_in_one
    from test_notebooks_e2e import upload_notebook

    with tempfile.TemporaryDirectory() as tmp:
        topo = start_all_in_one(Path(tmp) / "data")
        try:
            topo.pkgcloud("admin", "create-user", "bench", "--password", "bench-password-1", "--email", "b@example.com")
            cli = AnacondaCLI(Path(tmp) / "home", topo.api_url, version="1.13.0")
            cli.run("login", "--username", "bench", "--password", "bench-password-1", check=True)
            nb = Path(tmp) / "bench-notebook.ipynb"
            nb.write_bytes(notebook(False, "cached"))
            proc = upload_notebook(cli, nb, "1")
            assert proc.returncode == 0, proc.stderr
            url = f"{topo.base_url}/notebooks/bench/bench-notebook"
            import requests

            assert requests.get(url, timeout=60).status_code == 200
            out = subprocess.run(["wrk", "-t2", "-c32", "-d10s", url], capture_output=True, text=True, check=True).stdout
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            print(f"cached view: {rps:,.0f} requests/s (target >= 2,000){'; non-2xx: ' + non2xx.group(1) if non2xx else ''}")
        finally:
            topo.stop()


if __name__ == "__main__":
    first_render()
    cached_view()
