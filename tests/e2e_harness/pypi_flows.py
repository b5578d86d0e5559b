"""PyPI end to end with the real clients: anaconda-client and twine upload, pip installs.

Written once, bound to a topology by `class TestX(PypiFlows): topology = "all"`. Methods run
in order and share one server and one owner per class. Distributions are built in the test
with `python -m build --no-isolation` (setuptools, offline) in the pinned pip venv.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from pkgcloud_gateway.pypi import PAGE_CACHE_TTL_S

from .anaconda_cli import CLIENT_VENVS, AnacondaCLI
from .settle import settled

PASSWORD = "pia-password-12"
PIP_VENV = CLIENT_VENVS / "pip-26.3"
TWINE = CLIENT_VENVS / "twine-7.0.0" / "bin" / "twine"
JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "TWINE_", "PKGCLOUD_", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), NO_PROXY="127.0.0.1,localhost", PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1")
    return env


def build_project(root: Path, name: str, version: str, *, deps: tuple[str, ...] = (), requires_python: str = ">=3.8",
                  readme: str = "") -> list[Path]:
    """A tiny setuptools project, built into an sdist and a wheel; returns [sdist, wheel].
    `readme`: a README.md, which becomes the long description (Markdown)."""
    src = root / f"src-{name}-{version}"
    module = name.replace("-", "_")
    (src / module).mkdir(parents=True)
    (src / module / "__init__.py").write_text(f'VERSION = "{version}"\n')
    if readme:
        (src / "README.md").write_text(readme)
    dep_list = ", ".join(json.dumps(d) for d in deps)
    (src / "pyproject.toml").write_text(
        f"""[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "tiny test project {name}"
requires-python = "{requires_python}"
dependencies = [{dep_list}]
{'readme = "README.md"' if readme else ""}

[tool.setuptools]
packages = ["{module}"]
"""
    )
    out = root / f"dist-{name}-{version}"
    proc = subprocess.run(
        [str(PIP_VENV / "bin" / "python"), "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
        capture_output=True, text=True, env=_clean_env(root), timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return sorted(out.iterdir(), key=lambda p: not p.name.endswith(".tar.gz"))


def twine_upload(url: str, user: str, password: str, files: list[Path], home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TWINE), "upload", "--non-interactive", "--disable-progress-bar", "--repository-url", url, "-u", user, "-p", password,
         *map(str, files)],
        capture_output=True, text=True, env=_clean_env(home), timeout=120, stdin=subprocess.DEVNULL,
    )


class PipVenv:
    """A fresh target for each install: `pip install --target` keeps installs apart."""

    def __init__(self, root: Path):
        self.root = root

    def install(self, *args: str, target: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(PIP_VENV / "bin" / "python"), "-m", "pip", "install", "--no-input", "--no-cache-dir", "--target",
             str(self.root / target), *args],
            capture_output=True, text=True, env=_clean_env(self.root), timeout=180, stdin=subprocess.DEVNULL,
        )


#: how long a change must have shown before every gateway process serves it: on a store
#: without change tags (MinIO) each process may answer from the page it read up to
#: PAGE_CACHE_TTL_S before the change, and the kernel spreads connections over the processes
SETTLE_S = PAGE_CACHE_TTL_S + 0.2


def wait_page(url: str, needle: str | Callable[[str], bool], *, headers: dict | None = None, timeout: float = 30) -> requests.Response:
    """The page once it shows `needle` (a substring, or a test of the text) and has shown it
    on every new connection for SETTLE_S: a client that comes next (pip) sees it too,
    whichever gateway process it reaches."""
    seen = needle if callable(needle) else (lambda text: needle in text)
    done, r = settled(lambda: requests.get(url, headers=headers or {}, timeout=10), lambda r: r.status_code == 200 and seen(r.text),
                      settle_s=SETTLE_S, timeout=timeout, pause=0.1)
    if not done:
        raise AssertionError(f"{url} never showed {needle!r}: {r.status_code} {r.text[:500]}")
    return r


def _wheel_with(meta_name: str, meta_version: str, filename: str, extra: dict[str, bytes] | None = None, metadata: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    dist_info = filename.split("-")[0] + "-" + filename.split("-")[1] + ".dist-info"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{dist_info}/METADATA", metadata or f"Metadata-Version: 2.1\nName: {meta_name}\nVersion: {meta_version}\n".encode())
        zf.writestr(f"{dist_info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        for k, v in (extra or {}).items():
            zf.writestr(k, v)
    return buf.getvalue()


class PypiFlows:
    topology: str

    @pytest.fixture(scope="class")
    def owner(self, topo, tmp_path_factory):
        """pia (the uploader) with a token; returns (cli, token)."""
        proc = topo.pkgcloud("admin", "create-user", "pia", "--password", PASSWORD, "--email", "pia@example.com")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        cli = AnacondaCLI(tmp_path_factory.mktemp("pia-home"), topo.api_url)
        out = cli.output("login", "--username", "pia", "--password", PASSWORD)
        assert "login successful" in out, out
        tokens = list((cli.home / ".continuum" / "anaconda-client" / "tokens").glob("*.token"))
        return cli, tokens[0].read_text().strip()

    @pytest.fixture(scope="class")
    def work(self, tmp_path_factory):
        return tmp_path_factory.mktemp("pypi-work")

    @staticmethod
    def pypi(topo) -> str:
        return topo.api_url.rsplit("/api", 1)[0] + "/pypi"

    # --- uploads ------------------------------------------------------------------
    def test_anaconda_upload_sdist_and_wheel(self, topo, owner, work):
        cli, _ = owner
        dists = build_project(work, "tiny-dep", "1.0")
        out = cli.output("upload", *map(str, dists))
        assert "Upload(s) Complete" in out or "located at" in out, out
        # anaconda-client uploads in sorted order, the sdist last: wait for it
        page = wait_page(f"{self.pypi(topo)}/pia/simple/tiny-dep/", "tiny_dep-1.0.tar.gz", headers={"Accept": JSON_ACCEPT})
        doc = page.json()
        assert page.headers["Content-Type"] == JSON_ACCEPT and page.headers["Vary"] == "Accept, Accept-Encoding"
        assert page.headers["Cache-Control"].startswith("max-age=0, must-revalidate")
        assert doc["meta"]["api-version"] == "1.1" and doc["name"] == "tiny-dep" and doc["versions"] == ["1.0"]
        by_name = {f["filename"]: f for f in doc["files"]}
        wheel = by_name["tiny_dep-1.0-py3-none-any.whl"]
        assert wheel["requires-python"] == ">=3.8" and wheel["size"] == dists[1].stat().st_size
        assert wheel["hashes"]["sha256"] == hashlib.sha256(dists[1].read_bytes()).hexdigest()
        assert wheel["upload-time"].endswith("Z") and "core-metadata" in wheel
        assert "core-metadata" not in by_name["tiny_dep-1.0.tar.gz"]
        # the .metadata file is the wheel's METADATA, with the advertised hash
        meta = requests.get(f"{self.pypi(topo)}/pia/simple/tiny-dep/{wheel['url']}.metadata", timeout=10)
        assert meta.status_code == 200 and hashlib.sha256(meta.content).hexdigest() == wheel["core-metadata"]["sha256"]
        assert b"Name: tiny-dep" in meta.content
        # ETag / 304. Each gateway process keeps its own page cache; on S3 (no change tag) a
        # process may serve the page it read before the sdist for up to the cache TTL (1 s),
        # so the page's newest ETag is answered 304 by every process within that bound
        deadline = time.monotonic() + 5
        while True:
            # new connections, so that every process answers some of them
            codes = [requests.get(page.url, headers={"Accept": JSON_ACCEPT, "If-None-Match": page.headers["ETag"], "Connection": "close"},
                                  timeout=10).status_code for _ in range(8)]
            if codes == [304] * 8:
                break
            assert set(codes) <= {200, 304} and time.monotonic() < deadline, codes
            time.sleep(0.2)
        html = requests.get(page.url, timeout=10)
        assert html.headers["Content-Type"].startswith("text/html") and 'data-core-metadata="sha256=' in html.text
        assert html.headers["ETag"] != page.headers["ETag"]
        # non-normalized names redirect to the normalized URL
        r = requests.get(f"{self.pypi(topo)}/pia/simple/Tiny_Dep/", allow_redirects=False, timeout=10)
        assert r.status_code == 301 and r.headers["Location"].endswith("/pypi/pia/simple/tiny-dep/")

    def test_twine_upload(self, topo, owner, work):
        _, token = owner
        dists = build_project(work, "tiny-app", "2.0", deps=("tiny-dep>=1.0",))
        url = f"{self.pypi(topo)}/pia/"
        proc = twine_upload(url, "__token__", token, dists, work)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        # a byte-identical re-upload succeeds (twine has no --skip-existing for other indexes)
        proc = twine_upload(url, "pia", PASSWORD, dists, work)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        wait_page(f"{self.pypi(topo)}/pia/simple/tiny-app/", "tiny_app-2.0-py3-none-any.whl")
        lst = wait_page(f"{self.pypi(topo)}/pia/simple/", "tiny-app", headers={"Accept": JSON_ACCEPT}).json()
        assert {p["name"] for p in lst["projects"]} == {"tiny-dep", "tiny-app"}

    def test_twine_refusals_are_in_the_reason_phrase(self, topo, owner, work):
        _, token = owner
        url = f"{self.pypi(topo)}/pia/"
        bad = work / "bad"
        bad.mkdir()
        # different bytes under an existing filename
        other = build_project(bad, "tiny-app", "2.0", requires_python=">=3.9")[1]
        proc = twine_upload(url, "__token__", token, [other], work)
        assert proc.returncode != 0 and "File already exists" in proc.stdout + proc.stderr
        proc = twine_upload(url, "__token__", "not-a-token", [other], work)
        assert proc.returncode != 0 and "401" in proc.stdout + proc.stderr

    # --- installs -----------------------------------------------------------------
    def test_pip_installs_public_with_dependency(self, topo, owner, work):
        pip = PipVenv(work)
        index = f"{self.pypi(topo)}/pia/simple/"
        proc = pip.install("--index-url", index, "tiny-app", target="t1")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert (work / "t1" / "tiny_app" / "__init__.py").exists() and (work / "t1" / "tiny_dep" / "__init__.py").exists()
        # --extra-index-url (PyPI unreachable here: the primary is a dead local port)
        proc = pip.install("--index-url", "http://127.0.0.1:9/simple/", "--extra-index-url", index, "--retries", "0", "--timeout", "2",
                           "tiny-dep", target="t2")
        assert proc.returncode == 0, proc.stdout + proc.stderr

    def test_uploaded_prior_to(self, topo, owner, work):
        pip = PipVenv(work)
        index = f"{self.pypi(topo)}/pia/simple/"
        proc = pip.install("--index-url", index, "--uploaded-prior-to", "2001-01-01T00:00:00Z", "tiny-dep", target="t3")
        assert proc.returncode != 0 and "tiny-dep" in proc.stdout + proc.stderr
        proc = pip.install("--index-url", index, "--uploaded-prior-to", "2999-01-01T00:00:00Z", "tiny-dep", target="t4")
        assert proc.returncode == 0, proc.stdout + proc.stderr

    def test_private_package_through_token_and_basic(self, topo, owner, work):
        cli, token = owner
        dists = build_project(work, "secret-pkg", "0.1")
        out = cli.output("upload", "--private", *map(str, dists))
        assert "located at" in out or "Complete" in out, out
        base = self.pypi(topo)
        host = base.split("://", 1)[1]
        wait_page(f"{base}/t/{token}/pia/simple/secret-pkg/", "secret_pkg-0.1")
        # anonymous: absent from the public view
        assert requests.get(f"{base}/pia/simple/secret-pkg/", timeout=10).status_code == 404
        assert "secret-pkg" not in requests.get(f"{base}/pia/simple/", timeout=10).text
        pip = PipVenv(work)
        proc = pip.install("--index-url", f"{base}/t/{token}/pia/simple/", "secret-pkg", target="t5")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        proc = pip.install("--index-url", f"http://__token__:{token}@{host}/pia/simple/", "secret-pkg", target="t6")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        proc = pip.install("--index-url", f"http://pia:{PASSWORD}@{host}/pia/simple/", "secret-pkg", target="t7")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        proc = pip.install("--index-url", f"{base}/pia/simple/", "secret-pkg", target="t8")
        assert proc.returncode != 0
        # bad credentials get a Basic challenge
        r = requests.get(f"{base}/pia/simple/", auth=("__token__", "wrong"), timeout=10)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")

    # --- labels -------------------------------------------------------------------
    def test_twine_upload_to_label(self, topo, owner, work):
        cli, token = owner
        base = self.pypi(topo)
        dists = build_project(work, "tiny-lab", "1.0")
        proc = twine_upload(f"{base}/pia/label/dev/", "__token__", token, dists, work)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        wait_page(f"{base}/pia/label/dev/simple/tiny-lab/", "tiny_lab-1.0-py3-none-any.whl")
        wait_page(f"{base}/pia/label/dev/simple/", "tiny-lab")  # the project list is written after the page
        # not in main
        assert requests.get(f"{base}/pia/simple/tiny-lab/", timeout=10).status_code == 404
        assert "tiny-lab" not in requests.get(f"{base}/pia/simple/", timeout=10).text
        proc = PipVenv(work).install("--index-url", f"{base}/pia/label/dev/simple/", "tiny-lab", target="lab1")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        # an invalid label name, then a locked label: refused, with the reason twine prints
        later = build_project(work, "tiny-lab", "1.1")
        proc = twine_upload(f"{base}/pia/label/9bad/", "__token__", token, later, work)
        assert proc.returncode != 0 and "not valid" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
        cli.output("label", "--lock", "dev")
        try:
            proc = twine_upload(f"{base}/pia/label/dev/", "__token__", token, later, work)
            assert proc.returncode != 0 and "locked" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
        finally:
            cli.output("label", "--unlock", "dev")
        r = requests.get(f"{topo.api_url}/release/pia/tiny-lab/1.1", headers={"Authorization": f"token {token}"}, timeout=10)
        assert r.status_code == 404  # the refused uploads left nothing

    # --- yanking (PEP 592) -----------------------------------------------------------
    def test_yank_and_unyank(self, topo, owner, work):
        _, token = owner
        base = self.pypi(topo)
        dists = build_project(work, "tiny-yank", "1.0") + build_project(work, "tiny-yank", "2.0")
        proc = twine_upload(f"{base}/pia/", "__token__", token, dists, work)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        page = f"{base}/pia/simple/tiny-yank/"
        wait_page(page, "tiny_yank-2.0-py3-none-any.whl")
        # only the owner yanks
        assert requests.post(f"{base}/pia/yank/tiny-yank/2.0/", json={"reason": "x"}, timeout=10).status_code == 401
        r = requests.post(f"{base}/pia/yank/Tiny_Yank/2.0/", json={"reason": "broken build"}, auth=("__token__", token), timeout=10)
        assert r.status_code == 200, r.text
        assert sorted(f["filename"] for f in r.json()["files"]) == ["tiny_yank-2.0-py3-none-any.whl", "tiny_yank-2.0.tar.gz"]
        # one event per file: wait until both of the release's files show the yank, in both
        # representations
        wait_page(page, lambda html: html.count('data-yanked="broken build"') == 2)
        doc = wait_page(page, lambda text: text.count('"broken build"') == 2, headers={"Accept": JSON_ACCEPT}).json()
        yanked = {f["filename"]: f.get("yanked") for f in doc["files"]}
        assert yanked == {"tiny_yank-1.0.tar.gz": None, "tiny_yank-1.0-py3-none-any.whl": None,
                          "tiny_yank-2.0.tar.gz": "broken build", "tiny_yank-2.0-py3-none-any.whl": "broken build"}

        pip = PipVenv(work)
        proc = pip.install("--index-url", f"{base}/pia/simple/", "tiny-yank>=1.0", target="y1")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert (work / "y1" / "tiny_yank" / "__init__.py").read_text() == 'VERSION = "1.0"\n'
        proc = pip.install("--index-url", f"{base}/pia/simple/", "tiny-yank==2.0", target="y2")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert (work / "y2" / "tiny_yank" / "__init__.py").read_text() == 'VERSION = "2.0"\n'
        assert "broken build" in proc.stdout + proc.stderr  # pip warns with the reason

        # the operator command un-yanks (every distribution of the release)
        proc = topo.pkgcloud("admin", "unyank", "pia", "tiny-yank", "2.0", target="gateway")
        assert proc.returncode == 0 and "not yanked" in proc.stdout, proc.stdout + proc.stderr
        wait_page(page, lambda html: "data-yanked" not in html and "tiny_yank-2.0-py3-none-any.whl" in html)
        proc = pip.install("--index-url", f"{base}/pia/simple/", "tiny-yank>=1.0", target="y3")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert (work / "y3" / "tiny_yank" / "__init__.py").read_text() == 'VERSION = "2.0"\n'
        # DELETE un-yanks too; a conda file or a missing one cannot be yanked
        r = requests.delete(f"{base}/pia/yank/tiny-yank/2.0/tiny_yank-2.0.tar.gz", auth=("__token__", token), timeout=10)
        assert r.status_code == 200 and r.json()["files"] == [{"filename": "tiny_yank-2.0.tar.gz", "yanked": False, "yanked_reason": ""}]
        r = requests.post(f"{base}/pia/yank/tiny-yank/9.0/", auth=("__token__", token), timeout=10)
        assert r.status_code == 404

    # --- bad input ----------------------------------------------------------------
    def _raw_upload(self, topo, token, filename, data, name, version):
        fields = {":action": "file_upload", "protocol_version": "1", "name": name, "version": version,
                  "filetype": "bdist_wheel" if filename.endswith(".whl") else "sdist", "pyversion": "py3",
                  "sha256_digest": hashlib.sha256(data).hexdigest()}
        auth = "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()
        return requests.post(f"{self.pypi(topo)}/pia/", data=fields, files={"content": (filename, data, "application/octet-stream")},
                             headers={"Authorization": auth}, allow_redirects=False, timeout=30)

    @pytest.mark.parametrize(
        "filename,name,version,build,needle",
        [
            ("evil-1.0-py3-none-any.whl", "evil", "1.0", lambda: _wheel_with("other", "1.0", "evil-1.0-py3-none-any.whl"), "names project"),
            ("evil-1.0-py3-none-any.whl", "evil", "1.0",
             lambda: _wheel_with("evil", "1.0", "evil-1.0-py3-none-any.whl", {"../../etc/passwd": b"x"}), "path traversal"),
            ("evil-1.0-py3-none-any.whl", "evil", "1.0",
             lambda: _wheel_with("evil", "1.0", "evil-1.0-py3-none-any.whl",
                                 metadata=b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n\n" + b"x" * (2 * 1024 * 1024)),
             "limit"),
            ("evil-1.0-py3-none-any.whl", "evil", "1.0", lambda: _wheel_with("evil", "1.0.not.valid", "evil-1.0-py3-none-any.whl"),
             "not a valid PEP 440"),
            ("Tiny_Dep-1.0-py3-none-any.whl", "Tiny_Dep", "1.0", None, "normalizes"),
        ],
    )
    def test_bad_input_refused(self, topo, owner, filename, name, version, build, needle):
        _, token = owner
        before = requests.get(f"{topo.api_url}/packages/pia", headers={"Authorization": f"token {token}"}, timeout=10).json()
        if build is None:
            # a new spelling of an existing project, through anaconda-client's API path
            r = requests.post(f"{topo.api_url}/package/pia/{name}", json={"public": True, "public_attrs": {"package_types": ["pypi"]}},
                              headers={"Authorization": f"token {token}"}, timeout=10)
            assert r.status_code in (200, 201), r.text
            requests.post(f"{topo.api_url}/release/pia/{name}/{version}", json={}, headers={"Authorization": f"token {token}"}, timeout=10)
            r = requests.post(f"{topo.api_url}/stage/pia/{name}/{version}/{filename}",
                              json={"distribution_type": "pypi", "sha256": "0" * 64, "attrs": {}}, headers={"Authorization": f"token {token}"},
                              timeout=10)
            assert r.status_code == 400 and needle in r.json()["error"], r.text
            requests.delete(f"{topo.api_url}/package/pia/{name}", headers={"Authorization": f"token {token}"}, timeout=10)
        else:
            r = self._raw_upload(topo, token, filename, build(), name, version)
            assert r.status_code == 400 and needle in r.reason, (r.status_code, r.reason)
        after = requests.get(f"{topo.api_url}/packages/pia", headers={"Authorization": f"token {token}"}, timeout=10).json()
        assert sorted(p["name"] for p in after) == sorted(p["name"] for p in before)
