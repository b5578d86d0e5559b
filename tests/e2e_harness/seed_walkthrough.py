"""The seed's walkthrough, run by every anaconda-client generation the suite pins: 1.2.2 (the
seed's own client, on Python 3.8), 1.13.0 and 1.16.0.

A test class binds it to a client: `class TestX(SeedWalkthrough): client = "1.2.2"`. Methods
run in order and share one all-in-one server (with a base domain, so the notebooks host is
reachable too), one user and one client HOME per class. Each step is what a new user types;
the server's side is checked through the API, the channel, the simple page and the notebook
page.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
import requests
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from .anaconda_cli import AnacondaCLI
from .conda_packages import build
from .pypi_flows import build_project, wait_page
from .status import wait_applied
from .topology import start_all_in_one

PASSWORD = "seed-password-1"
BASE_DOMAIN = "pkgcloud.test"
CSV = "name,year,count\nMary,1880,7065\n"

# The notebook uploader 1.13.0 and 1.16.0 still ship (the code behind the old `anaconda
# notebook upload`): their `anaconda upload x.ipynb` refuses notebooks client-side.
NOTEBOOK_UPLOADER = r"""
import json, sys
from binstar_client.utils import get_server_api
from binstar_client.utils.notebook.uploader import Uploader
up = Uploader(get_server_api(), sys.argv[1])
up.package; up.release
print(json.dumps(up.upload()))
"""


def legacy_wheel(wheel: Path) -> Path:
    """The wheel as bdist_wheel wrote it in the seed's time: with `<dist-info>/metadata.json`
    (JSON metadata 2.0) and the description in DESCRIPTION.rst, which is where 1.2.2 reads a
    wheel's name and version (a wheel without them makes 1.2.2 stop before uploading)."""
    src = zipfile.ZipFile(wheel)
    dist_info = next(n.split("/")[0] for n in src.namelist() if n.endswith(".dist-info/METADATA"))
    name, version = dist_info.removesuffix(".dist-info").rsplit("-", 1)
    meta = {
        "metadata_version": "2.0", "generator": "bdist_wheel (0.29.0)", "name": name.replace("_", "-"), "version": version,
        "summary": f"tiny test project {name}",
        "extensions": {"python.details": {"document_names": {"description": "DESCRIPTION.rst"}}},
    }
    extra = {f"{dist_info}/metadata.json": json.dumps(meta).encode(), f"{dist_info}/DESCRIPTION.rst": b"A tiny test project.\n"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == f"{dist_info}/RECORD":
                lines = [ln for ln in data.decode().splitlines() if ln]
                for path, content in extra.items():
                    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
                    lines.insert(-1, f"{path},sha256={digest},{len(content)}")
                data = ("\n".join(lines) + "\n").encode()
            out.writestr(info, data)
        for path, content in extra.items():
            out.writestr(path, content)
    src.close()
    wheel.write_bytes(buf.getvalue())
    return wheel


def make_notebook(path: Path) -> Path:
    path.write_text(nbformat.writes(new_notebook(cells=[
        new_markdown_cell("# My notebook\n\nFrom the seed's walkthrough."),
        new_code_cell("print('hello seed')", outputs=[new_output("stream", name="stdout", text="hello seed\n")]),
    ])))
    return path


class SeedWalkthrough:
    client: str  # "1.2.2", "1.13.0" or "1.16.0"

    @pytest.fixture(scope="class")
    def topo(self, tmp_path_factory):
        t = start_all_in_one(tmp_path_factory.mktemp("pkgcloud-seed"), PKGCLOUD_BASE_DOMAIN=BASE_DOMAIN)
        yield t
        t.stop()

    @pytest.fixture(scope="class")
    def user(self) -> str:
        return "seed" + self.client.replace(".", "")

    @pytest.fixture(scope="class")
    def cli(self, topo, user, tmp_path_factory) -> AnacondaCLI:
        proc = topo.pkgcloud("admin", "create-user", user, "--password", PASSWORD, "--email", f"{user}@example.com")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        cli = AnacondaCLI(tmp_path_factory.mktemp("seed-home"), topo.api_url, version=self.client)
        out = cli.output("login", "--username", user, "--password", PASSWORD)
        assert "login successful" in out, out
        return cli

    @pytest.fixture(scope="class")
    def work(self, tmp_path_factory) -> Path:
        return tmp_path_factory.mktemp("seed-files")

    def _ok(self, cli: AnacondaCLI, *args: str, cwd: Path | None = None) -> str:
        proc = cli.run(*args, cwd=cwd)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0 and "Traceback" not in out, f"anaconda {' '.join(args)}:\n{out}"
        return out

    @staticmethod
    def _package(topo, user: str, name: str) -> dict:
        r = requests.get(f"{topo.api_url}/package/{user}/{name}", timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    # --- accounts -----------------------------------------------------------------------

    def test_whoami(self, cli, user):
        # 1.16.0's plain `whoami` opens an interactive site picker: its own `org whoami` instead
        out = self._ok(cli, *(("org", "whoami") if self.client == "1.16.0" else ("whoami",)))
        assert f"Username: {user}" in out, out

    # --- uploads ------------------------------------------------------------------------

    def test_upload_conda_package(self, topo, cli, user, work):
        # noarch as conda-build wrote it then: arch and platform null in info/index.json
        pkg = build(work / "conda", "seedpkg", "1.0", ext=".tar.bz2", index_overrides={"arch": None, "platform": None})
        self._ok(cli, "upload", str(pkg))
        info = self._package(topo, user, "seedpkg")
        assert info["package_types"] == ["conda"] and info["conda_platforms"] == ["noarch"], info
        [f] = info["files"]
        assert f["basename"] == "noarch/seedpkg-1.0-0.tar.bz2" and f["sha256"] == hashlib.sha256(pkg.read_bytes()).hexdigest()
        wait_page(f"{topo.base_url}/conda/{user}/noarch/repodata.json", "seedpkg-1.0-0.tar.bz2")

    def test_upload_sdist_and_wheel(self, topo, cli, user, work):
        sdist, wheel = build_project(work, "seed-py", "1.0")
        legacy_wheel(wheel)
        self._ok(cli, "upload", str(sdist), str(wheel))
        for dist in (sdist, wheel):  # index-svc applies the two commits in turn
            wait_page(f"{topo.base_url}/pypi/{user}/simple/seed-py/", dist.name)
        by_name = {f["basename"]: f for f in self._package(topo, user, "seed-py")["files"]}
        for dist in (sdist, wheel):
            assert by_name[dist.name]["sha256"] == hashlib.sha256(dist.read_bytes()).hexdigest()

    def test_upload_notebook(self, topo, cli, user, work):
        nb = make_notebook(work / "my-notebook.ipynb")
        if self.client == "1.2.2":
            self._ok(cli, "upload", "my-notebook.ipynb", cwd=work)  # the seed's exact command
        else:
            proc = subprocess.run([str(cli.exe.parent / "python"), "-c", NOTEBOOK_UPLOADER, str(nb)], env=cli.env(),
                                  capture_output=True, text=True, cwd=work, timeout=120, stdin=subprocess.DEVNULL)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        info = self._package(topo, user, "my-notebook")
        assert info["package_types"] == ["ipynb"] and [f["basename"] for f in info["files"]] == ["my-notebook.ipynb"]

    def test_notebook_is_rendered_on_both_routes(self, topo, user):
        wait_applied("render", topo.grpc["render"], user, 1)
        port = topo.base_url.rsplit(":", 1)[1]
        for url, host in ((f"{topo.base_url}/notebooks/{user}/my-notebook", None),
                          (f"{topo.base_url}/{user}/my-notebook", f"notebooks.{BASE_DOMAIN}:{port}")):
            deadline = time.monotonic() + 30
            while True:
                r = requests.get(url, headers={"Host": host} if host else {}, timeout=30)
                if r.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert r.status_code == 200, (url, host, r.text[:300])
            assert r.headers["Content-Type"].startswith("text/html") and "hello seed" in r.text
            assert "<script" not in r.text.lower()

    def test_upload_file(self, topo, cli, user, work):
        csv = work / "baby-names1.csv"
        csv.write_text(CSV)
        self._ok(cli, "upload", "--package-type", "file", "--package", "baby-names", "--version", "1",
                 "--summary", "Baby names by year", str(csv))
        [f] = self._package(topo, user, "baby-names")["files"]
        assert (f["basename"], f["type"]) == ("baby-names1.csv", "file")

    # --- reading it back ---------------------------------------------------------------

    def test_show(self, cli, user):
        out = self._ok(cli, "show", user)
        for name in ("seedpkg", "seed-py", "my-notebook", "baby-names"):
            assert f"{user}/{name}" in out, out
        out = self._ok(cli, "show", f"{user}/seedpkg")
        assert "1.0" in out and "conda" in out.lower(), out

    def test_search_shows_versions_and_noarch(self, cli, user):
        out = self._ok(cli, "search", "seedpkg")
        [row] = [line for line in out.splitlines() if f"{user}/seedpkg" in line]
        assert "1.0" in row and "noarch" in row, out

    def test_download(self, cli, user, work, tmp_path):
        self._ok(cli, "download", f"{user}/baby-names", cwd=tmp_path)
        assert (tmp_path / "baby-names1.csv").read_text() == CSV
        nb_dir = tmp_path / "nb"
        nb_dir.mkdir()
        self._ok(cli, "download", f"{user}/my-notebook", cwd=nb_dir)
        assert "hello seed" in (nb_dir / "my-notebook.ipynb").read_text()

    def test_remove(self, topo, cli, user):
        self._ok(cli, "remove", "-f", f"{user}/baby-names")
        assert requests.get(f"{topo.api_url}/package/{user}/baby-names", timeout=10).status_code == 404

    def test_an_error_from_the_server_is_printed_as_the_server_said_it(self, topo, cli, user):
        answer = requests.delete(f"{topo.api_url}/package/{user}/no-such-package",
                                 headers={"Authorization": f"token {cli_token(cli)}"}, timeout=10)
        assert answer.status_code == 404, answer.text
        message = answer.json()["error"]
        out = cli.output("remove", "-f", f"{user}/no-such-package")
        assert message in out, out


def cli_token(cli: AnacondaCLI) -> str:
    code = "from binstar_client.utils import get_server_api; print(get_server_api().token)"
    proc = subprocess.run([str(cli.exe.parent / "python"), "-c", code], env=cli.env(), capture_output=True, text=True, check=True)
    return proc.stdout.strip().splitlines()[-1]
