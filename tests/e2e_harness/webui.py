"""Helpers of the web UI suites: headless Chromium through selenium and Debian's
chromedriver, form tokens, and a staged upload over the API for file types anaconda-client
1.16.0 refuses to send (notebooks)."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import requests

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "webui"
NO_CHROMIUM = "Debian's chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)"


def chromium(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                "--window-size=1200,1000"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    return driver


def screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def form_token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def web_login(base_url: str, login: str, password: str) -> requests.Session:
    """A browser-like session logged in through the login form."""
    s = requests.Session()
    token = form_token(s.get(f"{base_url}/login", timeout=10).text)
    r = s.post(f"{base_url}/login", data={"csrf_token": token, "login": login, "password": password}, allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    return s


def api_upload(api_url: str, token: str, owner: str, package: str, version: str, basename: str, data: bytes,
               kind: str, *, labels: tuple[str, ...] = (), public: bool = True, summary: str = "") -> dict:
    """Package, release, stage, form POST, commit: the calls anaconda-client makes."""
    s = requests.Session()
    s.headers["Authorization"] = f"token {token}"
    if s.get(f"{api_url}/package/{owner}/{package}", timeout=10).status_code == 404:
        r = s.post(f"{api_url}/package/{owner}/{package}", json={"public": public, "public_attrs": {"summary": summary}}, timeout=10)
        assert r.status_code == 200, r.text
    if s.get(f"{api_url}/release/{owner}/{package}/{version}", timeout=10).status_code == 404:
        assert s.post(f"{api_url}/release/{owner}/{package}/{version}", json={}, timeout=10).status_code == 200
    r = s.post(f"{api_url}/stage/{owner}/{package}/{version}/{basename}", json={
        "distribution_type": kind, "attrs": {}, "channels": list(labels), "sha256": hashlib.sha256(data).hexdigest(),
    }, timeout=30)
    assert r.status_code == 200, r.text
    staged = r.json()
    form = requests.post(staged["post_url"], data=staged["form_data"], files={"file": (basename, data)}, timeout=60)
    assert form.status_code == 201, form.text
    r = s.post(f"{api_url}/commit/{owner}/{package}/{version}/{basename}", json={"dist_id": staged["dist_id"]}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def api_token(api_url: str, login: str, password: str) -> str:
    r = requests.post(f"{api_url}/authentications", auth=(login, password), json={"note": "webui-test"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["token"]
