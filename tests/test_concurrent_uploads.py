"""50 uploads at once through the gateway, each by its own real HTTP client (stage, form
POST, commit: the calls anaconda-client makes), on all-in-one and split.

- 50 different files of one package: all land (no 403 for a key granted just before).
- 50 uploads of one basename with identical bytes: all succeed, one file is kept.
- 50 uploads of one basename with different bytes: one wins, the other 49 get 409.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

N = 50
PASSWORD = "gina-password-1"


def upload(api_url: str, token: str, basename: str, data: bytes, barrier: threading.Barrier) -> tuple[int, int, int, str]:
    """One client's upload; returns the status of each step and the error text, if any."""
    s = requests.Session()
    s.headers["Authorization"] = f"token {token}"
    barrier.wait(timeout=60)  # every client starts together
    r = s.post(f"{api_url}/stage/gina/many/1.0/{basename}", timeout=60, json={
        "distribution_type": "file", "attrs": {}, "channels": [], "sha256": hashlib.sha256(data).hexdigest()})
    if r.status_code != 200:
        return r.status_code, 0, 0, r.text
    staged = r.json()
    form = requests.post(staged["post_url"], data=staged["form_data"], files={"file": (basename, data)}, timeout=60)
    if form.status_code != 201:
        return 200, form.status_code, 0, form.text
    c = s.post(f"{api_url}/commit/gina/many/1.0/{basename}", json={"dist_id": staged["dist_id"]}, timeout=60)
    return 200, 201, c.status_code, "" if c.status_code == 200 else c.text


def upload_all(api_url: str, token: str, jobs: list[tuple[str, bytes]]) -> list[tuple[int, int, int, str]]:
    barrier = threading.Barrier(len(jobs))
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(lambda job: upload(api_url, token, job[0], job[1], barrier), jobs))


class ConcurrentUploads:
    topology: str

    @pytest.fixture(scope="class")
    def token(self, topo):
        proc = topo.pkgcloud("admin", "create-user", "gina", "--password", PASSWORD, "--email", "gina@example.com")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        r = requests.post(f"{topo.api_url}/authentications", auth=("gina", PASSWORD), json={"note": "concurrency"}, timeout=10)
        assert r.status_code == 200, r.text
        token = r.json()["token"]
        auth = {"Authorization": f"token {token}"}
        assert requests.post(f"{topo.api_url}/package/gina/many", json={"public": True, "public_attrs": {"summary": "s"}},
                             headers=auth, timeout=10).status_code == 200
        assert requests.post(f"{topo.api_url}/release/gina/many/1.0", json={}, headers=auth, timeout=10).status_code == 200
        return token

    def files(self, topo, token) -> dict[str, str]:
        r = requests.get(f"{topo.api_url}/package/gina/many", headers={"Authorization": f"token {token}"}, timeout=10)
        assert r.status_code == 200, r.text
        return {f["basename"]: f["sha256"] for f in r.json()["files"]}

    def test_50_different_files_of_one_package_all_land(self, topo, token):
        jobs = [(f"part-{i:02d}.txt", f"part {i}\n".encode() * 200) for i in range(N)]
        results = upload_all(topo.api_url, token, jobs)
        failed = [(name, res) for (name, _), res in zip(jobs, results, strict=True) if res[:3] != (200, 201, 200)]
        assert failed == []
        stored = self.files(topo, token)
        assert {n: stored.get(n) for n, _ in jobs} == {n: hashlib.sha256(d).hexdigest() for n, d in jobs}

    def test_50_uploads_of_one_basename_with_identical_bytes_all_succeed(self, topo, token):
        data = b"identical bytes\n" * 500
        results = upload_all(topo.api_url, token, [("same.txt", data)] * N)
        assert [r[:3] for r in results] == [(200, 201, 200)] * N, [r for r in results if r[:3] != (200, 201, 200)][:3]
        assert self.files(topo, token)["same.txt"] == hashlib.sha256(data).hexdigest()

    def test_50_uploads_of_one_basename_with_different_bytes_one_wins(self, topo, token):
        jobs = [("clash.txt", f"clash {i}\n".encode()) for i in range(N)]
        results = upload_all(topo.api_url, token, jobs)
        # the stage refuses other bytes once a winner is committed; otherwise the commit does
        outcomes = sorted("won" if r[:3] == (200, 201, 200) else "409" if 409 in r[:3] else repr(r) for r in results)
        assert outcomes == ["409"] * (N - 1) + ["won"]
        winner = next(d for (_, d), r in zip(jobs, results, strict=True) if r[:3] == (200, 201, 200))
        assert self.files(topo, token)["clash.txt"] == hashlib.sha256(winner).hexdigest()


class TestConcurrentUploadsAllInOne(ConcurrentUploads):
    topology = "all"


@pytest.mark.split
@pytest.mark.rabbitmq
class TestConcurrentUploadsSplit(ConcurrentUploads):
    topology = "split"
