"""Pages where people land (issue 13), in headless Chromium against `pkgcloud all`: the home
page's recently updated public packages, the search box and the search page (by type and
platform, only what the viewer may read), package pages with install commands for every
protocol and the README rendered and cleaned, anaconda.org's Files and Labels tab URLs, and
channel and index URLs opened in a browser. Screenshots go to tests/artifacts/webui/.
"""

from __future__ import annotations

import pytest
import requests
from e2e_harness.anaconda_cli import AnacondaCLI
from e2e_harness.conda_packages import build
from e2e_harness.pypi_flows import build_project, wait_page
from e2e_harness.webui import CHROMEDRIVER, CHROMIUM, NO_CHROMIUM, chromium, screenshot, web_login

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=NO_CHROMIUM)

OWNER, PASSWORD = "cleo", "cleo-password-1"
OTHER, OTHER_PASSWORD = "odin", "odin-password-1"
README = """# catalog-tool

A *tiny* tool with a [home page](https://example.invalid/home).

<script>document.title = 'owned'</script>

- one
- two

[click me](javascript:alert(1))
"""


class TestCatalogPages:
    topology = "all"

    @pytest.fixture(scope="class")
    def uploaded(self, topo, tmp_path_factory):
        """cleo's public packages (conda on two platforms and a label, PyPI with a README, a
        file) and odin's private one, uploaded with anaconda-client 1.16.0."""
        work = tmp_path_factory.mktemp("catalog")
        clis = {}
        for login, password in ((OWNER, PASSWORD), (OTHER, OTHER_PASSWORD)):
            assert topo.pkgcloud("admin", "create-user", login, "--password", password, "--email", f"{login}@example.com").returncode == 0
            cli = clis[login] = AnacondaCLI(work / f"{login}-home", topo.api_url)
            assert "login successful" in cli.output("login", "--username", login, "--password", password)
        cleo = clis[OWNER]
        cleo.run("upload", str(build(work / "c", "catalog-lib", "1.0", subdir="noarch", ext=".conda")), check=True)
        cleo.run("upload", "-l", "dev", str(build(work / "c", "catalog-lib", "1.1", subdir="linux-64", ext=".conda")), check=True)
        cleo.run("upload", *map(str, build_project(work, "catalog-tool", "0.5", readme=README)), check=True)
        csv = work / "catalog-data.csv"
        csv.write_text("a,b\n1,2\n")
        cleo.run("upload", "--package-type", "file", "--package", "catalog-data", "--version", "1", "--summary", "Some data", str(csv),
                 check=True)
        odin = clis[OTHER]
        odin.run("package", "--create", f"{OTHER}/catalog-secret", "--summary", "not for everyone", "--private", check=True)
        odin.run("upload", "--package", "catalog-secret", str(build(work / "o", "catalog-secret", "1.0", subdir="noarch", ext=".conda")),
                 check=True)
        wait_page(f"{topo.base_url}/pypi/{OWNER}/simple/catalog-tool/", "catalog_tool-0.5-py3-none-any.whl")
        return clis

    @pytest.fixture(scope="class")
    def browser(self, topo, uploaded, tmp_path_factory):
        driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
        yield driver
        driver.quit()

    @staticmethod
    def ids(browser, css: str, attr: str) -> list[str]:
        from selenium.webdriver.common.by import By

        return [e.get_attribute(attr) for e in browser.find_elements(By.CSS_SELECTOR, css)]

    def test_home_lists_recent_public_packages(self, topo, browser):
        browser.get(f"{topo.base_url}/")
        recent = self.ids(browser, "tr.recent-row", "data-name")
        screenshot(browser, "catalog-home")
        assert {f"{OWNER}/catalog-lib", f"{OWNER}/catalog-tool", f"{OWNER}/catalog-data"} <= set(recent), recent
        assert f"{OTHER}/catalog-secret" not in recent
        assert recent[0] == f"{OWNER}/catalog-data"  # uploaded last by cleo (odin's private one is not listed)

    def test_search_box_and_results_by_type_and_platform(self, topo, browser):
        from selenium.webdriver.common.by import By

        browser.get(f"{topo.base_url}/{OWNER}")
        box = browser.find_element(By.ID, "search-input")
        box.send_keys("catalog")
        browser.find_element(By.ID, "search-submit").click()
        assert "/search?q=catalog" in browser.current_url
        names = self.ids(browser, "tr.result-row", "data-name")
        assert sorted(names) == [f"{OWNER}/catalog-data", f"{OWNER}/catalog-lib", f"{OWNER}/catalog-tool"], names
        assert sorted(self.ids(browser, "a.facet-type", "data-type")) == ["conda", "file", "pypi"]
        assert sorted(self.ids(browser, "a.facet-platform", "data-platform")) == ["linux-64", "noarch"]
        screenshot(browser, "catalog-search")
        browser.find_element(By.CSS_SELECTOR, 'a.facet-type[data-type="pypi"]').click()
        assert self.ids(browser, "tr.result-row", "data-name") == [f"{OWNER}/catalog-tool"]
        browser.get(f"{topo.base_url}/search?q=catalog&platform=linux-64")
        assert self.ids(browser, "tr.result-row", "data-name") == [f"{OWNER}/catalog-lib"]

    def test_search_shows_private_packages_only_to_who_may_read_them(self, topo):
        anonymous = requests.get(f"{topo.base_url}/search", params={"q": "catalog-secret"}, timeout=10)
        assert anonymous.status_code == 200 and "catalog-secret" not in anonymous.text.split('id="search-results"', 1)[1]
        assert "catalog-secret" not in web_login(topo.base_url, OWNER, PASSWORD).get(
            f"{topo.base_url}/search", params={"q": "catalog"}, timeout=10).text.split('id="search-results"', 1)[1]
        mine = web_login(topo.base_url, OTHER, OTHER_PASSWORD).get(f"{topo.base_url}/search", params={"q": "catalog-secret"}, timeout=10)
        assert f'data-name="{OTHER}/catalog-secret"' in mine.text

    def test_pypi_package_page_installs_with_pip_and_renders_the_readme_clean(self, topo, browser):
        from selenium.webdriver.common.by import By

        browser.get(f"{topo.base_url}/{OWNER}/catalog-tool")
        lines = {e.get_attribute("data-protocol"): e.text for e in browser.find_elements(By.CSS_SELECTOR, ".install-line")}
        assert lines["pip"].endswith(f"pip install --index-url {topo.base_url}/pypi/{OWNER}/simple catalog-tool"), lines
        description = browser.find_element(By.ID, "description")
        assert description.find_element(By.TAG_NAME, "h1").text == "catalog-tool"
        assert description.find_element(By.TAG_NAME, "em").text == "tiny"
        links = {a.text: a.get_attribute("href") for a in description.find_elements(By.TAG_NAME, "a")}
        assert links["home page"] == "https://example.invalid/home"
        assert not (links.get("click me") or "").startswith("javascript:")
        assert browser.title != "owned" and not description.find_elements(By.TAG_NAME, "script")
        screenshot(browser, "catalog-package-pypi")

    def test_conda_package_page_files_and_labels_tabs(self, topo, browser):
        from selenium.webdriver.common.by import By

        browser.get(f"{topo.base_url}/{OWNER}/catalog-lib")
        lines = {e.get_attribute("data-protocol"): e.text for e in browser.find_elements(By.CSS_SELECTOR, ".install-line")}
        assert lines["conda"].endswith(f"conda install -c {topo.base_url}/conda/{OWNER} catalog-lib"), lines
        screenshot(browser, "catalog-package-conda")
        browser.get(f"{topo.base_url}/{OWNER}/catalog-lib/files")
        assert sorted(self.ids(browser, "tr.file-row", "data-basename")) == ["linux-64/catalog-lib-1.1-0.conda", "noarch/catalog-lib-1.0-0.conda"]
        assert "active" in browser.find_element(By.ID, "tab-files").get_attribute("class")
        screenshot(browser, "catalog-package-files")
        browser.get(f"{topo.base_url}/{OWNER}/catalog-lib/labels")
        assert self.ids(browser, "tr.label-row", "data-label") == ["dev", "main"]
        screenshot(browser, "catalog-package-labels")
        browser.find_element(By.CSS_SELECTOR, 'tr.label-row[data-label="dev"] a').click()
        assert self.ids(browser, "tr.file-row", "data-basename") == ["linux-64/catalog-lib-1.1-0.conda"]

    def test_file_package_page_installs_with_anaconda_download(self, topo, browser):
        from selenium.webdriver.common.by import By

        browser.get(f"{topo.base_url}/{OWNER}/catalog-data")
        lines = {e.get_attribute("data-protocol"): e.text for e in browser.find_elements(By.CSS_SELECTOR, ".install-line")}
        assert lines == {"files": f"files\nanaconda download {OWNER}/catalog-data"}, lines

    def test_channel_and_index_urls_lead_a_browser_to_the_owner(self, topo, browser):
        from selenium.webdriver.common.by import By

        for path, lands in ((f"/conda/{OWNER}", f"/{OWNER}"), (f"/pypi/{OWNER}", f"/{OWNER}"),
                            (f"/envs/{OWNER}", f"/{OWNER}?tab=environments")):
            browser.get(f"{topo.base_url}{path}")
            assert browser.current_url == f"{topo.base_url}{lands}", (path, browser.current_url)
            assert browser.find_element(By.ID, "owner-title").text.startswith(OWNER)
        browser.get(f"{topo.base_url}/conda/{OWNER}/label/dev")
        assert browser.current_url == f"{topo.base_url}/{OWNER}?tab=labels&label=dev"
        assert self.ids(browser, "tr.package-row", "data-name") == ["catalog-lib"]
        assert browser.find_element(By.ID, "label-title").text == "Label dev"
        screenshot(browser, "catalog-owner-label")
        # the machine formats are what they were for clients
        assert requests.get(f"{topo.base_url}/conda/{OWNER}/noarch/repodata.json", timeout=10).json()["packages.conda"]
        assert requests.get(f"{topo.base_url}/conda/{OWNER}", timeout=10).status_code == 404
        assert requests.get(f"{topo.base_url}/envs/{OWNER}", headers={"Accept": "application/json"}, timeout=10).json() == []
        simple = requests.get(f"{topo.base_url}/pypi/{OWNER}/simple/", headers={"Accept": "text/html"}, timeout=10)
        assert simple.status_code == 200 and "catalog-tool" in simple.text
        # with a trailing slash too; the redirect varies by Accept
        r = requests.get(f"{topo.base_url}/conda/{OWNER}/label/dev/", headers={"Accept": "text/html"}, allow_redirects=False, timeout=10)
        assert r.status_code == 303 and r.headers["Location"].endswith(f"/{OWNER}?tab=labels&label=dev") and r.headers["Vary"] == "Accept"
