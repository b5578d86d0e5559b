"""Environments end to end: `anaconda upload environment.yml` with anaconda-client 1.13.0
(package type env), validated by the registry, listed at /envs/<owner>, downloadable, and the
`conda env create owner/name` flow: the newest env file fetched through the API the way
conda's binstar spec did, then the environment created from it with py-rattler from a conda
channel on this server."""

from __future__ import annotations

import pytest
import requests
import yaml
from e2e_harness.anaconda_cli import AnacondaCLI
from e2e_harness.conda_flows import names_in, rattler_install, repodata, wait_for
from e2e_harness.conda_packages import build

PASSWORD = "erin-password-1"


class EnvFlows:
    topology: str

    @pytest.fixture(scope="class")
    def erin(self, topo, tmp_path_factory):
        proc = topo.pkgcloud("admin", "create-user", "erin", "--password", PASSWORD, "--email", "erin@example.com")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        cli = AnacondaCLI(tmp_path_factory.mktemp("erin-home"), topo.api_url, version="1.13.0")
        assert "login successful" in cli.output("login", "--username", "erin", "--password", PASSWORD)
        return cli

    @pytest.fixture(scope="class")
    def channel(self, topo, erin, tmp_path_factory):
        """erin's conda channel on this server, holding envtool."""
        pkg = build(tmp_path_factory.mktemp("envpkgs"), "envtool", "1.0", subdir="noarch", ext=".conda")
        erin.run("upload", str(pkg), check=True)
        url = f"{topo.base_url}/conda/erin"
        assert wait_for(lambda: "envtool-1.0-0.conda" in names_in(repodata(f"{url}/noarch/repodata.json"))), "envtool never indexed"
        return url

    def test_upload_environment_yml(self, topo, erin, channel, tmp_path):
        env = tmp_path / "environment.yml"
        env.write_text(yaml.safe_dump({"name": "my-environment", "channels": [channel], "dependencies": ["envtool >=1.0"],
                                       "prefix": "/home/erin/secret/path"}))
        out = erin.output("upload", str(env))
        assert "environment located at" in out.lower() or "upload" in out.lower(), out
        pkg = requests.get(f"{topo.api_url}/package/erin/my-environment", timeout=10).json()
        assert pkg["package_types"] == ["env"], pkg
        [f] = pkg["files"]
        assert f["type"] == "env" and f["basename"] == "environment.yml"
        attrs = requests.get(f"{topo.api_url}/dist/erin/my-environment/{f['version']}/environment.yml", timeout=10).json()["attrs"]
        assert attrs["name"] == "my-environment" and attrs["dependencies"] == ["envtool >=1.0"] and "prefix" not in attrs

    def test_envs_page_lists_and_serves_them(self, topo, erin):
        rows = requests.get(f"{topo.base_url}/envs/erin", headers={"Accept": "application/json"}, timeout=10).json()
        assert [r["full_name"] for r in rows] == ["erin/my-environment"]
        html = requests.get(f"{topo.base_url}/envs/erin", timeout=10)
        assert html.status_code == 200 and "erin/my-environment" in html.text and html.headers["X-Content-Type-Options"] == "nosniff"
        r = requests.get(rows[0]["url"], timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/yaml")
        assert yaml.safe_load(r.text)["name"] == "my-environment"
        assert requests.get(rows[0]["download_url"], timeout=10).text == r.text
        assert requests.get(f"{topo.base_url}/envs/nobody-here", timeout=10).status_code == 404

    def test_conda_env_create_owner_name(self, topo, erin, tmp_path):
        # conda's BinstarSpec: GET /package, the env files, the max version, its basename,
        # GET /download, parse the YAML, create the environment from its channels
        package = requests.get(f"{topo.api_url}/package/erin/my-environment", timeout=10).json()
        env_files = [f for f in package["files"] if f["type"] == "env"]
        version = max(f["version"] for f in env_files)
        basename = next(f["basename"] for f in package["files"] if f["version"] == version)
        r = requests.get(f"{topo.api_url}/download/erin/my-environment/{version}/{basename}", timeout=10)
        assert r.status_code in (200, 302)
        if r.status_code == 302:
            r = requests.get(r.headers["Location"], timeout=10)
        env = yaml.safe_load(r.text)
        installed = rattler_install(env["channels"][0], env["dependencies"], tmp_path / "env")
        assert installed == ["envtool=1.0"]
        assert (tmp_path / "env" / "prefix" / "share" / "envtool" / "1.0.txt").exists()

    def test_an_invalid_environment_is_refused(self, topo, erin, tmp_path):
        bad = tmp_path / "bad-env.yml"
        bad.write_text("name: bad-env\nchannels: [defaults]\n")
        out = erin.output("upload", str(bad))
        assert "has no 'dependencies'" in out, out
        pkg = requests.get(f"{topo.api_url}/package/erin/bad-env", timeout=10)
        assert pkg.status_code == 404 or pkg.json()["files"] == []


class TestEnvsAllInOne(EnvFlows):
    topology = "all"
