"""The XSS corpus (tests/data/xss/*.ipynb): every rendering is inert.

Two checks per notebook, on render-svc's own output (no CSP to help it):
1. statically: no script, frame, object, form, style or base element of the notebook, no on*
   handler, no javascript:/data: URL, no style attribute; images only from the image route;
2. in headless Chromium (Debian's chromium + chromedriver, driven by selenium), served from a
   loopback server with no Content-Security-Policy at all: no payload runs (each one sets
   window.__xss and the title) and no alert opens.
"""

from __future__ import annotations

import shutil
import threading
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pkgcloud_render.renderer import IMAGE_MARKER, NotebookRenderer

CORPUS = sorted((Path(__file__).parent / "data" / "xss").glob("*.ipynb"))
FORBIDDEN_TAGS = {"script", "iframe", "frame", "object", "embed", "form", "input", "button", "base", "link", "svg", "math",
                  "template", "textarea", "select", "audio", "video", "source", "meta-refresh"}


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[bytes, dict[str, bytes]]]:
    renderer = NotebookRenderer()
    out = {}
    for path in CORPUS:
        result = renderer.render(path.read_bytes())
        out[path.stem] = (result.html, result.images)
    return out


class Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


def test_the_corpus_has_at_least_twenty_payloads():
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("name", [p.stem for p in CORPUS])
def test_rendering_is_statically_inert(rendered, name):
    page, images = rendered[name]
    parser = Elements()
    parser.feed(page.decode())
    tags = [t for t, _ in parser.found]
    assert not FORBIDDEN_TAGS & set(tags), f"{name}: {FORBIDDEN_TAGS & set(tags)}"
    assert tags.count("style") == 1  # the page's own stylesheet, in the head
    metas = [dict(a) for t, a in parser.found if t == "meta"]
    assert metas == [{"charset": "utf-8"}, {"name": "referrer", "content": "no-referrer"}]
    for tag, attrs in parser.found:
        for attr, value in attrs:
            assert not attr.startswith("on"), f"{name}: <{tag} {attr}>"
            assert attr not in ("style", "srcdoc", "action", "formaction", "xlink:href", "background"), f"{name}: <{tag} {attr}>"
            v = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            assert not v.startswith(("javascript:", "vbscript:", "data:")), f"{name}: <{tag} {attr}={value!r}>"
            if attr == "src":
                assert tag == "img" and value.startswith(IMAGE_MARKER), f"{name}: <{tag} src={value!r}>"
    assert "window.__xss" not in page.decode().replace("&#x27;", "'") or "<script" not in page.decode()
    for image in images:
        assert image.endswith((".png", ".svg"))


# --- headless Chromium -----------------------------------------------------------------

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def page_server(rendered):
    """Serves each rendering at /<name> and its images at /img/<name>, with no CSP."""
    pages = {f"/{n}": p.replace(b'src="' + IMAGE_MARKER.encode(), b'src="/img/') for n, (p, _) in rendered.items()}
    images = {f"/img/{k}": v for _, (_, imgs) in rendered.items() for k, v in imgs.items()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path) or images.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            ctype = "text/html; charset=utf-8" if self.path in pages else ("image/svg+xml" if self.path.endswith(".svg") else "image/png")
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def chromium_driver(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path}",
                "--window-size=1200,900"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Debian's chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)")
def test_no_payload_runs_in_headless_chromium(page_server, rendered, tmp_path_factory):
    from selenium.common.exceptions import NoAlertPresentException

    driver = chromium_driver(tmp_path_factory.mktemp("chromium-profile"))
    ran = {}
    try:
        driver.set_page_load_timeout(20)
        # the probe itself must work: a page with a live payload is detected
        driver.get("data:text/html,<script>window.__xss=1;document.title='XSS'</script>")
        assert driver.execute_script("return window.__xss || 0") == 1
        for name in rendered:
            driver.get(f"{page_server}/{name}")
            try:
                driver.switch_to.alert.dismiss()
                ran[name] = "alert"
                continue
            except NoAlertPresentException:
                pass
            flag, title = driver.execute_script("return [window.__xss || 0, document.title]")
            if flag or title == "XSS":
                ran[name] = (flag, title)
    finally:
        driver.quit()
    assert ran == {}
