"""Conda channels end to end, written once and bound to every topology: real packages built
with conda-package-handling, uploaded with anaconda-client 1.16.0, then fetched, solved and
installed with py-rattler from the channel, a label, and a token URL.

Methods run in order and share one server and one user per class.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import requests
from pkgcloud_gateway.conda import UNTAGGED_CACHE_TTL_S

from .anaconda_cli import AnacondaCLI
from .conda_packages import build, conda_without_pkg, index_json, tar_bz2
from .settle import settled

PASSWORD = "carol-password-1"


def _token(cli: AnacondaCLI) -> str:
    return next((cli.home / ".continuum" / "anaconda-client" / "tokens").glob("*.token")).read_text().strip()


def rattler_install(channel_url: str, specs: list[str], work: Path, platforms=("linux-64", "noarch")) -> list[str]:
    """Solve and install specs from channel_url into a fresh prefix; the installed name=version list."""
    import rattler
    from rattler import Channel, Gateway, SourceConfig

    work.mkdir(parents=True, exist_ok=True)

    async def main():
        gateway = Gateway(cache_dir=work / "cache", default_config=SourceConfig(sharded_enabled=True))
        records = await rattler.solve(sources=[Channel(channel_url)], specs=specs, gateway=gateway, platforms=list(platforms), virtual_packages=[])
        await rattler.install(records, target_prefix=work / "prefix", cache_dir=work / "pkgs", show_progress=False)
        return sorted(f"{r.name.normalized}={r.version}" for r in records)

    return asyncio.run(main())


def repodata(url: str, **kw) -> dict:
    r = requests.get(url, timeout=10, **kw)
    assert r.status_code == 200, (url, r.status_code, r.text)
    return r.json()


def names_in(doc: dict) -> set[str]:
    return set(doc.get("packages", {})) | set(doc.get("packages.conda", {}))


#: how long a change must have shown before every gateway process serves it: on a store
#: without change tags (MinIO) each process may answer from the document it read up to
#: the gateway's conda cache TTL before the change
SETTLE_S = UNTAGGED_CACHE_TTL_S + 0.2


def wait_for(predicate, timeout: float = 20.0):
    """predicate()'s value once it has been true on every try for SETTLE_S (so the client that
    comes next sees the change too, whichever gateway process it reaches); the last falsy value
    after `timeout`."""
    return settled(predicate, bool, settle_s=SETTLE_S, timeout=timeout)[1]


class CondaChannelFlows:
    topology: str

    @pytest.fixture(scope="class")
    def carol(self, topo, tmp_path_factory):
        proc = topo.pkgcloud("admin", "create-user", "carol", "--password", PASSWORD, "--email", "carol@example.com")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        cli = AnacondaCLI(tmp_path_factory.mktemp("carol-home"), topo.api_url)
        assert "login successful" in cli.output("login", "--username", "carol", "--password", PASSWORD)
        return cli

    @pytest.fixture(scope="class")
    def pkgs(self, tmp_path_factory):
        out = tmp_path_factory.mktemp("condapkgs")
        return {
            "mylib1": build(out, "mylib", "1.0.0", build_string="h1_0", subdir="linux-64", ext=".tar.bz2",
                            run_exports={"weak": ["mylib >=1.0.0,<2.0a0"]}),
            "mylib11": build(out, "mylib", "1.1.0", build_string="h1_0", subdir="linux-64", ext=".conda",
                             run_exports={"weak": ["mylib >=1.1.0,<2.0a0"]}),
            "myutil": build(out, "myutil", "0.3.0", subdir="noarch", ext=".conda"),
            "myapp": build(out, "myapp", "2.0.0", build_string="h7_1", build_number=1, subdir="linux-64", ext=".conda",
                           depends=("mylib >=1.0", "myutil"), constrains=("mylib <1.2",)),
            "devtool": build(out, "devtool", "0.1", subdir="noarch", ext=".tar.bz2"),
            "secret": build(out, "secret", "1.0", subdir="noarch", ext=".conda"),
            "walk1": build(out, "walk", "1.0", subdir="noarch", ext=".conda"),
            "walk2": build(out, "walk", "2.0", subdir="noarch", ext=".conda"),
            "lockme": build(out, "lockme", "1.0", subdir="noarch", ext=".conda"),
            "dir": out,
        }

    def conda_url(self, topo) -> str:
        return f"{topo.base_url}/conda"

    def test_upload_and_install_from_main(self, topo, carol, pkgs, tmp_path):
        for key in ("mylib1", "mylib11", "myutil", "myapp"):
            carol.run("upload", str(pkgs[key]), check=True)
        url = f"{self.conda_url(topo)}/carol"
        doc = wait_for(lambda: "myapp-2.0.0-h7_1.conda" in names_in(repodata(f"{url}/linux-64/repodata.json")) and
                       repodata(f"{url}/linux-64/repodata.json"))
        assert doc, "myapp never appeared in repodata"
        rec = doc["packages.conda"]["myapp-2.0.0-h7_1.conda"]
        assert rec["depends"] == ["mylib >=1.0", "myutil"] and rec["indexed_timestamp"] > 0 and len(rec["sha256"]) == 64
        assert "mylib-1.0.0-h1_0.tar.bz2" in doc["packages"]
        installed = rattler_install(url, ["myapp"], tmp_path / "r1")
        assert installed == ["myapp=2.0.0", "mylib=1.1.0", "myutil=0.3.0"]
        assert (tmp_path / "r1" / "prefix" / "share" / "myapp" / "2.0.0.txt").exists()

    def test_http_caching_headers(self, topo, carol):
        url = f"{self.conda_url(topo)}/carol/linux-64/repodata.json"
        r = requests.get(url, timeout=10)
        assert r.status_code == 200 and r.headers["ETag"] and r.headers["Last-Modified"]
        assert "max-age" in r.headers["Cache-Control"]
        assert requests.get(url, headers={"If-None-Match": r.headers["ETag"]}, timeout=10).status_code == 304
        assert requests.get(url, headers={"If-Modified-Since": r.headers["Last-Modified"]}, timeout=10).status_code == 304
        assert requests.head(url + ".zst", timeout=10).status_code == 200
        assert requests.head(f"{self.conda_url(topo)}/carol/linux-64/repodata_shards.msgpack.zst", timeout=10).status_code == 200
        # every label of every owner has a noarch/repodata.json, even empty
        empty = repodata(f"{self.conda_url(topo)}/carol/label/nothing-here/noarch/repodata.json")
        assert names_in(empty) == set()
        assert requests.get(f"{self.conda_url(topo)}/carol/channeldata.json", timeout=10).json()["packages"]["mylib"]["version"] == "1.1.0"
        pkg = requests.get(f"{self.conda_url(topo)}/carol/linux-64/mylib-1.1.0-h1_0.conda", timeout=10, allow_redirects=True)
        assert pkg.status_code == 200 and len(pkg.content) > 0

    def test_label_dev(self, topo, carol, pkgs, tmp_path):
        carol.run("upload", "-l", "dev", str(pkgs["devtool"]), check=True)
        main = f"{self.conda_url(topo)}/carol"
        dev = f"{main}/label/dev"
        assert wait_for(lambda: "devtool-0.1-0.tar.bz2" in names_in(repodata(f"{dev}/noarch/repodata.json")))
        assert "devtool-0.1-0.tar.bz2" not in names_in(repodata(f"{main}/noarch/repodata.json"))
        assert rattler_install(dev, ["devtool"], tmp_path / "r2") == ["devtool=0.1"]

    def test_private_package_through_token_url(self, topo, carol, pkgs, tmp_path):
        r = requests.post(f"{topo.api_url}/package/carol/secret", json={"public": False, "public_attrs": {"summary": "s"}},
                          headers={"Authorization": f"token {_token(carol)}"}, timeout=10)
        assert r.status_code == 200, r.text
        carol.run("upload", str(pkgs["secret"]), check=True)
        token = _token(carol)
        private = f"{topo.base_url}/conda/t/{token}/carol"
        assert wait_for(lambda: "secret-1.0-0.conda" in names_in(repodata(f"{private}/noarch/repodata.json")))
        assert "secret-1.0-0.conda" not in names_in(repodata(f"{self.conda_url(topo)}/carol/noarch/repodata.json"))
        # the file itself is hidden from anyone who may not see it
        assert requests.get(f"{self.conda_url(topo)}/carol/noarch/secret-1.0-0.conda", timeout=10).status_code == 404
        bearer = requests.get(f"{self.conda_url(topo)}/carol/noarch/repodata.json", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert "secret-1.0-0.conda" in names_in(bearer.json())
        assert rattler_install(private, ["secret"], tmp_path / "r3") == ["secret=1.0"]

    def test_label_walkthrough(self, topo, carol, pkgs):
        main = f"{self.conda_url(topo)}/carol"
        carol.run("upload", str(pkgs["walk1"]), check=True)
        carol.run("upload", "-l", "test", str(pkgs["walk2"]), check=True)
        assert wait_for(lambda: "walk-2.0-0.conda" in names_in(repodata(f"{main}/label/test/noarch/repodata.json")))
        assert "walk-2.0-0.conda" not in names_in(repodata(f"{main}/noarch/repodata.json"))
        out = carol.output("label", "--copy", "test", "main")
        assert wait_for(lambda: "walk-2.0-0.conda" in names_in(repodata(f"{main}/noarch/repodata.json"))), out
        r = requests.get(f"{topo.api_url}/channels/carol", headers={"Authorization": f"token {_token(carol)}"}, timeout=10)
        assert {"main", "dev", "test"} <= set(r.json()), r.text
        # a locked label refuses uploads
        carol.run("label", "--lock", "test", check=True)
        proc = carol.run("upload", "-l", "test", str(pkgs["lockme"]))
        assert proc.returncode != 0 and "locked" in proc.stdout + proc.stderr
        # nor may a file in it be deleted (upload --force deletes first)
        proc = carol.run("upload", "--force", "-l", "test", str(pkgs["walk2"]))
        assert proc.returncode != 0
        carol.run("label", "--unlock", "test", check=True)
        # remove takes the files out of that label's index
        carol.run("label", "--remove", "test", check=True)
        assert wait_for(lambda: names_in(repodata(f"{main}/label/test/noarch/repodata.json")) == set())

    def test_move_and_copy(self, topo, carol):
        main = f"{self.conda_url(topo)}/carol"
        carol.run("move", "carol/walk/1.0", "--from-label", "main", "--to-label", "old", check=True)
        assert wait_for(lambda: "walk-1.0-0.conda" in names_in(repodata(f"{main}/label/old/noarch/repodata.json")))
        assert wait_for(lambda: "walk-1.0-0.conda" not in names_in(repodata(f"{main}/noarch/repodata.json")))
        out = carol.output("copy", "carol/walk/1.0", "--from-label", "old", "--to-label", "main")
        assert "walk-1.0-0.conda" in out or "Copied" in out, out
        assert wait_for(lambda: "walk-1.0-0.conda" in names_in(repodata(f"{main}/noarch/repodata.json")))

    def test_copy_to_another_owner(self, topo, carol, tmp_path):
        # carol owns the org "carolabs" (she created it): copy a release into its channel
        r = requests.post(f"{topo.api_url}/organizations", json={"login": "carolabs"},
                          headers={"Authorization": f"token {_token(carol)}"}, timeout=10)
        assert r.status_code == 201, r.text
        out = carol.output("copy", "carol/walk/1.0", "--to-owner", "carolabs", "--to-label", "stable")
        assert "walk-1.0-0.conda" in out, out
        org = f"{self.conda_url(topo)}/carolabs"
        assert wait_for(lambda: "walk-1.0-0.conda" in names_in(repodata(f"{org}/label/stable/noarch/repodata.json")))
        assert "walk-1.0-0.conda" not in names_in(repodata(f"{org}/noarch/repodata.json"))  # only in the label asked for
        # the same bytes, served from the org's channel, and installable from there by a conda client
        mine = requests.get(f"{self.conda_url(topo)}/carol/noarch/walk-1.0-0.conda", timeout=10)
        theirs = requests.get(f"{org}/label/stable/noarch/walk-1.0-0.conda", timeout=10)
        assert theirs.status_code == 200 and theirs.content == mine.content
        assert rattler_install(f"{org}/label/stable", ["walk"], tmp_path / "copied") == ["walk=1.0"]
        # again without --replace: a conflict the client reports; with it: accepted
        proc = carol.run("copy", "carol/walk/1.0", "--to-owner", "carolabs", "--to-label", "stable")
        assert proc.returncode != 0 and "conflict" in (proc.stdout + proc.stderr).lower()
        carol.run("copy", "carol/walk/1.0", "--to-owner", "carolabs", "--to-label", "stable", "--replace", check=True)
        # nobody copies into an account they may not write
        proc = carol.run("copy", "carol/walk/1.0", "--to-owner", "dave")
        assert proc.returncode != 0

    def test_remove_takes_files_out_of_every_index(self, topo, carol):
        main = f"{self.conda_url(topo)}/carol"
        carol.run("remove", "-f", "carol/walk", check=True)
        assert wait_for(lambda: not any("walk" in n for n in names_in(repodata(f"{main}/noarch/repodata.json"))))
        assert wait_for(lambda: not any("walk" in n for n in names_in(repodata(f"{main}/label/old/noarch/repodata.json"))))

    def test_bad_packages_are_refused(self, topo, carol, pkgs):
        out = pkgs["dir"] / "bad"
        out.mkdir(exist_ok=True)
        good = pkgs["myutil"]
        cases = {
            "truncated": ("noarch/trunc-1.0-0.conda", good.read_bytes()[: len(good.read_bytes()) // 2]),
            "no-inner": ("noarch/myutil-0.3.0-0.conda", conda_without_pkg(good)),
            "traversal": ("noarch/evil-1.0-0.tar.bz2", tar_bz2({"info/index.json": index_json("evil", "1.0"), "../../etc/x": b"x"})),
            "mismatch": ("noarch/liar-1.0-0.tar.bz2", tar_bz2({"info/index.json": index_json("other", "1.0")})),
            "subdir": ("weird_sub/odd-1.0-0.tar.bz2", tar_bz2({"info/index.json": index_json("odd", "1.0", subdir="weird_sub")})),
            "huge": ("noarch/huge-1.0-0.tar.bz2", tar_bz2({"info/index.json": index_json("huge", "1.0")[:-1] + b', "pad": "' + b"x" * (50 * 1024 * 1024) + b'"}'})),
            "nonutf8": ("noarch/latin-1.0-0.tar.bz2", tar_bz2({"info/index.json": index_json("latin", "1.0")[:-1] + b', "x": "\xe9"}'})),
        }
        from .conda_bad_upload import upload_raw

        for case, (basename, data) in cases.items():
            status, body = upload_raw(topo.api_url, _token(carol), "carol", basename, data)
            assert 400 <= status < 500 and isinstance(body, dict) and body.get("error"), (case, status, body)
        doc = repodata(f"{self.conda_url(topo)}/carol/noarch/repodata.json")
        assert not any(n.startswith(("trunc", "evil", "liar", "odd", "huge", "latin")) for n in names_in(doc))
