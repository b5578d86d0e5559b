"""The web UI's main flows in headless Chromium against `pkgcloud all`: sign up, log out and in,
upload with anaconda-client then the package page, the label filter, removing a version, the
privacy setting, an organization and a new owner, a token created and revoked, a notebook page,
log out. Each page is saved as a screenshot under tests/artifacts/webui/.

The tests of the class run in order and share one browser (one session, like a person would).
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from e2e_harness.anaconda_cli import AnacondaCLI
from e2e_harness.webui import CHROMEDRIVER, CHROMIUM, NO_CHROMIUM, api_token, api_upload, chromium, screenshot

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=NO_CHROMIUM)

LOGIN, PASSWORD = "vic", "vic-password-1"
NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Web UI analysis\n\nSome *text*."},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": "print('hi')",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "hi from the notebook\n"}]},
    ],
    "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
}


class TestWebUIAllInOne:
    topology = "all"

    @pytest.fixture(scope="class")
    def browser(self, topo, tmp_path_factory):
        driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
        yield driver
        driver.quit()

    @staticmethod
    def fill(browser, **fields):
        from selenium.webdriver.common.by import By

        for element_id, value in fields.items():
            el = browser.find_element(By.ID, element_id)
            el.clear()
            el.send_keys(value)

    @staticmethod
    def click(browser, element_id=None, *, css=None):
        """Click and wait for the next page (every click here submits a form or follows a link)."""
        from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        old = browser.find_element(By.TAG_NAME, "html")
        target = browser.find_element(By.CSS_SELECTOR, css) if css else browser.find_element(By.ID, element_id)
        target.click()

        def loaded(d) -> bool:
            # chromedriver can answer "inspector error" while the page is swapped: ask again
            try:
                _ = old.tag_name
                return False
            except StaleElementReferenceException:
                pass
            except WebDriverException:
                return False
            try:
                return d.execute_script("return document.readyState") == "complete"
            except WebDriverException:
                return False

        WebDriverWait(browser, 30, poll_frequency=0.1).until(loaded)

    @staticmethod
    def text(browser, element_id) -> str:
        from selenium.webdriver.common.by import By

        return browser.find_element(By.ID, element_id).text

    @staticmethod
    def rows(browser, css) -> list[str]:
        from selenium.webdriver.common.by import By

        return [el.text for el in browser.find_elements(By.CSS_SELECTOR, css)]

    def test_sign_up(self, topo, browser):
        browser.get(f"{topo.base_url}/")
        screenshot(browser, "01-home")
        self.click(browser, "nav-signup")
        self.fill(browser, login=LOGIN, email="vic@example.com", name="Vic Tester", password=PASSWORD)
        screenshot(browser, "02-signup")
        self.click(browser, "submit")
        assert browser.current_url == f"{topo.base_url}/{LOGIN}"
        assert "Vic Tester" in self.text(browser, "owner-title")
        screenshot(browser, "03-user-page-empty")
        cookie = browser.get_cookie("pkgcloud_session")
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"

    def test_log_out_and_log_in(self, topo, browser):
        self.click(browser, "logout")
        assert browser.current_url == f"{topo.base_url}/"
        assert browser.get_cookie("pkgcloud_session") is None
        self.click(browser, "nav-login")
        self.fill(browser, login=LOGIN, password="wrong-password")
        self.click(browser, "submit")
        assert "wrong login or password" in self.text(browser, "form-error")
        screenshot(browser, "04-login-refused")
        self.fill(browser, login=LOGIN, password=PASSWORD)
        self.click(browser, "submit")
        assert browser.current_url == f"{topo.base_url}/{LOGIN}"
        assert self.text(browser, "nav-me") == LOGIN

    def test_upload_with_anaconda_client_then_the_package_page(self, topo, browser, tmp_path_factory):
        work = tmp_path_factory.mktemp("vic-files")
        cli = AnacondaCLI(tmp_path_factory.mktemp("vic-home"), topo.api_url)
        assert "login successful" in cli.output("login", "--username", LOGIN, "--password", PASSWORD)
        cli.run("package", "--create", f"{LOGIN}/baby-names", "--summary", "Baby names by year", check=True)
        for version, label in (("1", "main"), ("2", "dev"), ("3", "main")):
            f = work / f"baby-names{version}.csv"
            f.write_text(f"name,year\nMary,188{version}\n")
            cli.run("upload", "--package", "baby-names", "--package-type", "file", "--version", version,
                    "--label", label, str(f), check=True)
        browser.get(f"{topo.base_url}/{LOGIN}")
        assert self.rows(browser, "tr.package-row a.package-link") == ["baby-names"]
        screenshot(browser, "05-user-page")
        browser.get(f"{topo.base_url}/{LOGIN}/baby-names")
        assert self.text(browser, "summary") == "Baby names by year"
        assert [r.split()[0] for r in self.rows(browser, "tr.version-row")] == ["3", "2", "1"]
        screenshot(browser, "06-package-overview")
        self.click(browser, "tab-files")
        files = self.rows(browser, "tr.file-row")
        assert len(files) == 3 and any("baby-names2.csv" in r and "dev" in r for r in files)
        screenshot(browser, "07-package-files")
        # a download link of the Files tab gives the bytes back
        from selenium.webdriver.common.by import By

        href = browser.find_element(By.CSS_SELECTOR, 'tr.file-row[data-basename="baby-names2.csv"] a.download').get_attribute("href")
        cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
        assert requests.get(href, cookies=cookies, timeout=10).text == "name,year\nMary,1882\n"

    def test_filter_by_label(self, topo, browser):
        from selenium.webdriver.support.ui import Select

        browser.get(f"{topo.base_url}/{LOGIN}/baby-names?tab=files")
        Select(browser.find_element("id", "label-select")).select_by_visible_text("dev")
        self.click(browser, "apply-label")
        assert "label=dev" in browser.current_url
        files = self.rows(browser, "tr.file-row")
        assert len(files) == 1 and "baby-names2.csv" in files[0]
        screenshot(browser, "08-files-label-dev")
        Select(browser.find_element("id", "label-select")).select_by_visible_text("main")
        self.click(browser, "apply-label")
        assert sorted(r.split()[0] for r in self.rows(browser, "tr.file-row")) == ["baby-names1.csv", "baby-names3.csv"]

    def test_remove_a_version(self, topo, browser):
        browser.get(f"{topo.base_url}/{LOGIN}/baby-names")
        browser.find_element("css selector", 'tr.version-row[data-version="1"] input.version-check').click()  # a checkbox: no page load
        screenshot(browser, "09-remove-version-selected")
        self.click(browser, "remove-versions")
        assert [r.split()[0] for r in self.rows(browser, "tr.version-row")] == ["3", "2"]
        assert requests.get(f"{topo.api_url}/release/{LOGIN}/baby-names/1", timeout=10).status_code == 404
        screenshot(browser, "10-version-removed")

    def test_change_privacy(self, topo, browser):
        from selenium.webdriver.support.ui import Select

        browser.get(f"{topo.base_url}/{LOGIN}/baby-names")
        Select(browser.find_element("id", "privacy-select")).select_by_value("private")
        self.click(browser, "save-privacy")
        assert self.text(browser, "private-tag") == "private"
        screenshot(browser, "11-package-private")
        # strangers see nothing of it, neither through the UI nor the API
        assert requests.get(f"{topo.base_url}/{LOGIN}/baby-names", timeout=10).status_code == 404
        assert "baby-names" not in requests.get(f"{topo.base_url}/{LOGIN}", timeout=10).text
        assert requests.get(f"{topo.api_url}/package/{LOGIN}/baby-names", timeout=10).status_code == 404
        # its owner still does
        browser.get(f"{topo.base_url}/{LOGIN}")
        assert self.rows(browser, "tr.package-row a.package-link") == ["baby-names"]
        browser.get(f"{topo.base_url}/{LOGIN}/baby-names")
        Select(browser.find_element("id", "privacy-select")).select_by_value("public")
        self.click(browser, "save-privacy")
        assert requests.get(f"{topo.api_url}/package/{LOGIN}/baby-names", timeout=10).status_code == 200

    def test_create_an_org_and_add_an_owner(self, topo, browser):
        proc = topo.pkgcloud("admin", "create-user", "wes", "--password", "wes-password-1", "--email", "wes@example.com")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        self.click(browser, "nav-new-org")
        self.fill(browser, **{"org-login": "vic-lab", "org-name": "Vic's Lab", "org-description": "A test lab"})
        screenshot(browser, "12-org-new")
        self.click(browser, "create-org")
        assert browser.current_url == f"{topo.base_url}/orgs/vic-lab/settings"
        assert self.rows(browser, 'tr.group-row[data-group="owners"] span.member') == [LOGIN]
        self.fill(browser, **{"member-login": "wes"})
        self.click(browser, "add-member")
        assert self.rows(browser, 'tr.group-row[data-group="owners"] span.member') == [LOGIN, "wes"]
        screenshot(browser, "13-org-settings")
        # wes is an owner for auth-svc too: the API lists the owners group with him in it
        token = api_token(topo.api_url, "wes", "wes-password-1")
        r = requests.get(f"{topo.api_url}/group/vic-lab/owners/members/wes", headers={"Authorization": f"token {token}"}, timeout=10)
        assert r.status_code == 204
        browser.get(f"{topo.base_url}/vic-lab")
        assert "organization" in self.text(browser, "owner-title")
        screenshot(browser, "14-org-page")

    def test_create_and_revoke_a_token(self, topo, browser):
        self.click(browser, "nav-tokens")
        self.fill(browser, **{"token-name": "ci-reader", "token-days": "7"})
        browser.find_element("id", "scope-api-read").click()  # a checkbox: no page load
        self.click(browser, "create-token")
        token = self.text(browser, "new-token")
        assert len(token) > 20
        screenshot(browser, "15-token-created")
        headers = {"Authorization": f"token {token}"}
        r = requests.get(f"{topo.api_url}/authentication", headers=headers, timeout=10)
        assert r.status_code == 200 and r.json()["scopes"] == ["api:read"] and r.json()["expires"]
        # shown once: the list never shows it again
        browser.get(f"{topo.base_url}/settings/tokens")
        assert token not in browser.page_source
        assert "ci-reader" in self.rows(browser, "td.token-name")
        self.click(browser, css='tr.token-row[data-name="ci-reader"] button.revoke')
        assert "ci-reader" not in self.rows(browser, "td.token-name")
        screenshot(browser, "16-token-revoked")
        assert requests.get(f"{topo.api_url}/authentication", headers=headers, timeout=10).status_code == 401

    def test_notebook_page(self, topo, browser):
        from selenium.webdriver.common.by import By

        token = api_token(topo.api_url, LOGIN, PASSWORD)
        api_upload(topo.api_url, token, LOGIN, "analysis", "1", "analysis.ipynb", json.dumps(NOTEBOOK).encode(), "ipynb",
                   summary="An analysis")
        browser.get(f"{topo.base_url}/{LOGIN}?tab=notebooks")
        assert self.rows(browser, "tr.package-row a.package-link") == ["analysis"]
        self.click(browser, css="tr.package-row a.package-link")
        assert browser.current_url == f"{topo.base_url}/{LOGIN}/analysis/notebook"
        frame = browser.find_element(By.ID, "notebook-frame")
        assert frame.get_attribute("sandbox") == ""
        assert frame.get_attribute("src") == f"{topo.base_url}/notebooks/{LOGIN}/analysis"
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline:
            browser.switch_to.frame(frame)
            text = browser.find_element(By.TAG_NAME, "body").text
            browser.switch_to.default_content()
            if "hi from the notebook" in text:
                break
            time.sleep(1)
            browser.refresh()
            frame = browser.find_element(By.ID, "notebook-frame")
        assert "Web UI analysis" in text and "hi from the notebook" in text
        screenshot(browser, "17-notebook")
        # a private notebook still shows to its owner: the iframe's GET carries the session
        from selenium.webdriver.support.ui import Select

        browser.get(f"{topo.base_url}/{LOGIN}/analysis")
        Select(browser.find_element(By.ID, "privacy-select")).select_by_value("private")
        self.click(browser, "save-privacy")
        # (the notebook route keeps a public page's resolution for PUBLIC_RESOLUTION_TTL_S = 2 s)
        deadline = time.monotonic() + 5
        while requests.get(f"{topo.base_url}/notebooks/{LOGIN}/analysis", timeout=10).status_code != 404:
            assert time.monotonic() < deadline, "the notebook stayed public after the privacy change"
            time.sleep(0.3)
        browser.get(f"{topo.base_url}/{LOGIN}/analysis/notebook")
        browser.switch_to.frame(browser.find_element(By.ID, "notebook-frame"))
        assert "hi from the notebook" in browser.find_element(By.TAG_NAME, "body").text
        browser.switch_to.default_content()
        screenshot(browser, "17b-private-notebook")

    def test_environments_tab(self, topo, browser):
        token = api_token(topo.api_url, LOGIN, PASSWORD)
        env = b"name: web-env\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n"
        api_upload(topo.api_url, token, LOGIN, "web-env", "1", "environment.yml", env, "env", summary="An environment")
        browser.get(f"{topo.base_url}/{LOGIN}")
        self.click(browser, "tab-environments")
        rows = self.rows(browser, "tr.package-row")
        assert len(rows) == 1 and "web-env" in rows[0] and f"conda env create {LOGIN}/web-env" in rows[0]
        screenshot(browser, "18-environments")

    def test_error_page_and_log_out(self, topo, browser):
        browser.get(f"{topo.base_url}/{LOGIN}/no-such-package")
        assert self.text(browser, "error-status") == "404"
        screenshot(browser, "19-error-page")
        self.click(browser, "logout")
        browser.get(f"{topo.base_url}/settings/tokens")
        assert browser.current_url.startswith(f"{topo.base_url}/login?next=")
        screenshot(browser, "20-logged-out")
