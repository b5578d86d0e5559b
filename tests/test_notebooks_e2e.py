"""Notebooks end to end: anaconda-client 1.13.0 uploads, render-svc renders on the upload
event, the gateway serves the page script-free, `anaconda download` gets the file back.

anaconda-client 1.13.0's `anaconda upload x.ipynb` (like 1.16.0's) refuses notebooks before
sending anything: the test asserts that refusal, then uploads with the notebook uploader that
1.13.0 still ships (binstar_client.utils.notebook.uploader, the code behind the old `anaconda
notebook upload`), run unmodified in the client's own venv: the same HTTP calls older clients
made (GET/POST /package, GET/POST /release, /stage, the form POST, /commit).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
import requests
from e2e_harness.anaconda_cli import AnacondaCLI
from e2e_harness.status import wait_applied
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from pkgcloud_servicekit.published import rendered_html_key

PASSWORD = "nora-password-1"
# a 1x1 red PNG
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)).decode()

UPLOAD_SCRIPT = r"""
import json, sys
from binstar_client.utils import get_server_api
from binstar_client.utils.notebook.uploader import Uploader
api = get_server_api()
up = Uploader(api, sys.argv[1], version=sys.argv[2] or None)
up.package; up.release
print(json.dumps(up.upload()))
"""


def make_notebook(path: Path, marker: str) -> Path:
    nb = new_notebook(cells=[
        new_markdown_cell(f"# Analysis {marker}\n\nSome *text*."),
        new_code_cell("print('hello')", outputs=[
            new_output("stream", name="stdout", text=f"hello {marker}\n"),
            new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
        ]),
    ])
    path.write_text(nbformat.writes(nb))
    return path


def upload_notebook(cli: AnacondaCLI, path: Path, version: str = "") -> subprocess.CompletedProcess:
    python = cli.exe.parent / "python"
    return subprocess.run([str(python), "-c", UPLOAD_SCRIPT, str(path), version], env=cli.env(), capture_output=True, text=True,
                          cwd=cli.home, timeout=120, stdin=subprocess.DEVNULL)


class NotebookFlows:
    topology: str

    @pytest.fixture(scope="class")
    def nora(self, topo, tmp_path_factory):
        proc = topo.pkgcloud("admin", "create-user", "nora", "--password", PASSWORD, "--email", "nora@example.com")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        cli = AnacondaCLI(tmp_path_factory.mktemp("nora-home"), topo.api_url, version="1.13.0")
        assert "login successful" in cli.output("login", "--username", "nora", "--password", PASSWORD)
        return cli

    def test_cli_upload_of_a_notebook_is_refused_by_the_client_itself(self, topo, nora, tmp_path):
        nb = make_notebook(tmp_path / "refused.ipynb", "r")
        out = nora.output("upload", str(nb))
        assert "Notebooks, and Environments features have been removed" in out
        assert requests.get(f"{topo.api_url}/package/nora/refused", timeout=10).status_code == 404

    def test_upload_renders_on_the_event_and_serves_a_script_free_page(self, topo, nora, tmp_path):
        nb = make_notebook(tmp_path / "my-notebook.ipynb", "one")
        proc = upload_notebook(nora, nb, "1")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        pkg = requests.get(f"{topo.api_url}/package/nora/my-notebook", timeout=10).json()
        assert pkg["package_types"] == ["ipynb"] and [f["basename"] for f in pkg["files"]] == ["my-notebook.ipynb"]
        attrs = requests.get(f"{topo.api_url}/dist/nora/my-notebook/1/my-notebook.ipynb", timeout=10).json()["attrs"]
        assert attrs["nbformat"] == 4 and attrs["cells"] == 2
        wait_applied("render", topo.grpc["render"], "nora", 1)
        if topo.name == "all":  # rendered by the event, before anyone asked (filesystem blob store)
            sha = pkg["files"][0].get("sha256") or requests.get(f"{topo.api_url}/dist/nora/my-notebook/1/my-notebook.ipynb", timeout=10).json()["sha256"]
            assert list(topo.data_dir.rglob(rendered_html_key("*", sha))), "render-svc did not render on the upload event"
        for url in (f"{topo.base_url}/notebooks/nora/my-notebook", f"{topo.base_url}/notebooks/nora/my-notebook/1"):
            r = requests.get(url, timeout=30)
            assert r.status_code == 200, r.text
            assert r.headers["Content-Type"].startswith("text/html")
            csp = r.headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp and "script-src 'none'" in csp and "sandbox" in csp
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert "hello one" in r.text and "<script" not in r.text.lower()
        [img] = re.findall(r'<img[^>]+src="([^"]+)"', r.text)
        assert img.startswith(f"{topo.base_url}/notebooks/_images/")
        ri = requests.get(img, timeout=10)
        assert ri.status_code == 200 and ri.headers["Content-Type"] == "image/png" and ri.content == base64.b64decode(PNG)
        assert ri.headers["X-Content-Type-Options"] == "nosniff"
        again = requests.get(f"{topo.base_url}/notebooks/nora/my-notebook", headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
        assert again.status_code == 304

    def test_every_version_is_kept_and_the_newest_is_shown(self, topo, nora, tmp_path):
        nb = make_notebook(tmp_path / "my-notebook.ipynb", "two")
        proc = upload_notebook(nora, nb, "2")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        pkg = requests.get(f"{topo.api_url}/package/nora/my-notebook", timeout=10).json()
        assert sorted(f["version"] for f in pkg["files"]) == ["1", "2"]
        deadline = time.monotonic() + 10  # the gateway keeps a public resolution for 2 s
        while "hello two" not in (body := requests.get(f"{topo.base_url}/notebooks/nora/my-notebook", timeout=30).text):
            assert time.monotonic() < deadline, body[:500]
            time.sleep(0.5)
        assert "hello one" in requests.get(f"{topo.base_url}/notebooks/nora/my-notebook/1", timeout=30).text

    def test_anaconda_download_gets_the_newest_notebook(self, topo, nora, tmp_path):
        out = tmp_path / "dl"
        out.mkdir()
        nora.run("download", "nora/my-notebook", "-o", str(out), check=True)
        got = nbformat.reads((out / "my-notebook.ipynb").read_text(), as_version=4)
        assert "hello two" in json.dumps(got)

    def test_a_broken_notebook_is_refused_and_leaves_nothing(self, topo, nora, tmp_path):
        bad = tmp_path / "broken.ipynb"
        bad.write_text('{"cells": [{"cell_type": "code"}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
        proc = upload_notebook(nora, bad, "1")
        assert proc.returncode != 0
        assert "not a valid notebook" in proc.stderr + proc.stdout
        r = requests.get(f"{topo.api_url}/dist/nora/broken/1/broken.ipynb", headers={"Authorization": "token " + nora_token(nora)}, timeout=10)
        assert r.status_code == 404

    def test_a_notebook_made_private_is_refused_on_the_next_request(self, topo, nora, tmp_path):
        """The gateway keeps a public notebook's resolution for 2 s in each of its processes;
        making the package private (PATCH /api/package, as the web UI's privacy form does)
        ends it at once in all of them (the access epoch)."""
        nb = make_notebook(tmp_path / "soon-private.ipynb", "soon private")
        proc = upload_notebook(nora, nb, "1")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        url = f"{topo.base_url}/notebooks/nora/soon-private"
        deadline = time.monotonic() + 30
        while requests.get(url, timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "the notebook never rendered"
            time.sleep(0.2)
        for _ in range(8):  # new connections: every gateway process resolves and keeps it
            r = requests.get(url, headers={"Connection": "close"}, timeout=30)
            assert r.status_code == 200 and "soon private" in r.text
        r = requests.patch(f"{topo.api_url}/package/nora/soon-private", json={"public": False},
                           headers={"Authorization": f"token {nora_token(nora)}"}, timeout=10)
        assert r.status_code == 200 and r.json()["public"] is False, r.text
        for _ in range(8):
            r = requests.get(url, headers={"Connection": "close"}, timeout=30)
            assert r.status_code == 404 and r.json() == {"error": "Notebook not found"}, r.status_code

    def test_missing_and_private_notebooks_look_the_same(self, topo, nora):
        r = requests.get(f"{topo.base_url}/notebooks/nora/nope", timeout=10)
        assert r.status_code == 404 and r.json() == {"error": "Notebook not found"}


def nora_token(cli: AnacondaCLI) -> str:
    python = cli.exe.parent / "python"
    code = "from binstar_client.utils import get_server_api; print(get_server_api().token)"
    return subprocess.run([str(python), "-c", code], env=cli.env(), capture_output=True, text=True, check=True).stdout.strip()


class TestNotebooksAllInOne(NotebookFlows):
    topology = "all"


@pytest.mark.split
class TestNotebooksSplit(NotebookFlows):
    topology = "split"
