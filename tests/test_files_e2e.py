"""The baby-names walkthrough ("Uploading other types of files") with anaconda-client 1.16.0:
create the package, upload a CSV as a file package, download it back."""

from __future__ import annotations

import pytest
import requests
from e2e_harness.anaconda_cli import AnacondaCLI

PASSWORD = "fred-password-1"
CSV = "name,year,count\nMary,1880,7065\nAnna,1880,2604\n"


class FileFlows:
    topology: str

    @pytest.fixture(scope="class")
    def fred(self, topo, tmp_path_factory):
        proc = topo.pkgcloud("admin", "create-user", "fred", "--password", PASSWORD, "--email", "fred@example.com")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        cli = AnacondaCLI(tmp_path_factory.mktemp("fred-home"), topo.api_url)
        assert "login successful" in cli.output("login", "--username", "fred", "--password", PASSWORD)
        return cli

    def test_baby_names_walkthrough(self, topo, fred, tmp_path):
        fred.run("package", "--create", "fred/baby-names", "--summary", "Baby names by year", check=True)
        csv = tmp_path / "baby-names1.csv"
        csv.write_text(CSV)
        fred.run("upload", "--package", "baby-names", "--package-type", "file", "--version", "1", str(csv), check=True)
        pkg = requests.get(f"{topo.api_url}/package/fred/baby-names", timeout=10).json()
        assert pkg["package_types"] == ["file"]
        assert [(f["basename"], f["version"], f["type"]) for f in pkg["files"]] == [("baby-names1.csv", "1", "file")]
        out = tmp_path / "dl"
        out.mkdir()
        fred.run("download", "fred/baby-names", "-o", str(out), check=True)
        assert (out / "baby-names1.csv").read_text() == CSV

    def test_a_second_version_and_download_picks_the_newest(self, topo, fred, tmp_path):
        csv = tmp_path / "baby-names1.csv"
        csv.write_text(CSV + "Emma,1880,2003\n")
        fred.run("upload", "--package", "baby-names", "--package-type", "file", "--version", "2", str(csv), check=True)
        out = tmp_path / "dl2"
        out.mkdir()
        fred.run("download", "fred/baby-names", "-o", str(out), check=True)
        assert (out / "baby-names1.csv").read_text().endswith("Emma,1880,2003\n")


class TestFilesAllInOne(FileFlows):
    topology = "all"
