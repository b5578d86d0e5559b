"""A change is visible to the next install (issue 13): py-rattler keeps its HTTP cache between
solves, as conda and pixi do between runs, and still sees `anaconda label --copy test main`
on the very next solve, because channel documents are revalidated every time (ETag, 304)
instead of being trusted for a minute."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
import requests
from e2e_harness.anaconda_cli import AnacondaCLI
from e2e_harness.conda_flows import names_in, repodata, wait_for
from e2e_harness.conda_packages import build
from e2e_harness.status import owner_status, wait_applied
from e2e_harness.topology import start_all_in_one

PASSWORD = "rita-password-1"


def solve(channel_url: str, spec: str, cache_dir: Path) -> list[str]:
    """One solve by a fresh rattler Gateway (a new client run) over the kept cache_dir."""
    import rattler
    from rattler import Channel, Gateway, SourceConfig

    async def main():
        gateway = Gateway(cache_dir=cache_dir, default_config=SourceConfig(sharded_enabled=True))
        records = await rattler.solve(sources=[Channel(channel_url)], specs=[spec], gateway=gateway,
                                      platforms=["linux-64", "noarch"], virtual_packages=[])
        return sorted(f"{r.name.normalized}={r.version}" for r in records)

    return asyncio.run(main())


@pytest.fixture(scope="module")
def topo(tmp_path_factory):
    t = start_all_in_one(tmp_path_factory.mktemp("pkgcloud-revalidate"))
    yield t
    t.stop()


def test_label_copy_is_seen_by_the_next_solve_with_a_kept_cache(topo, tmp_path):
    assert topo.pkgcloud("admin", "create-user", "rita", "--password", PASSWORD, "--email", "rita@example.com").returncode == 0
    cli = AnacondaCLI(tmp_path / "home", topo.api_url)
    assert "login successful" in cli.output("login", "--username", "rita", "--password", PASSWORD)
    v1 = build(tmp_path / "pkgs", "walk", "1.0", subdir="noarch", ext=".conda")
    v2 = build(tmp_path / "pkgs", "walk", "2.0", subdir="noarch", ext=".conda")
    cli.run("upload", str(v1), check=True)
    cli.run("upload", "-l", "test", str(v2), check=True)
    channel = f"{topo.base_url}/conda/rita"
    assert wait_for(lambda: "walk-2.0-0.conda" in names_in(repodata(f"{channel}/label/test/noarch/repodata.json")))
    assert wait_for(lambda: "walk-1.0-0.conda" in names_in(repodata(f"{channel}/noarch/repodata.json")))

    cache = tmp_path / "rattler-cache"
    assert solve(channel, "walk", cache) == ["walk=1.0"]
    applied = owner_status("index", topo.grpc["index"], "rita").events_applied
    cli.run("label", "--copy", "test", "main", check=True)
    wait_applied("index", topo.grpc["index"], "rita", applied + 1)  # the server's side has the change
    assert solve(channel, "walk", cache) == ["walk=2.0"]  # and the next solve, cache kept, sees it

    # what the client is told about the documents it keeps
    r = requests.get(f"{channel}/noarch/repodata.json", timeout=10)
    assert r.headers["Cache-Control"] == "public, max-age=0, must-revalidate" and r.headers["ETag"]
    assert requests.get(f"{channel}/noarch/repodata.json", headers={"If-None-Match": r.headers["ETag"]}, timeout=10).status_code == 304
    f = requests.get(f"{channel}/noarch/walk-2.0-0.conda", timeout=10)
    assert f.headers["Cache-Control"] == "public, no-cache" and f.headers["ETag"] == f'"{hashlib.sha256(f.content).hexdigest()}"'
