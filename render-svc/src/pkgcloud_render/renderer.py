"""Notebook -> sanitized HTML page, in a worker process.

nbconvert's `basic` template renders the body (no <script>, no CDN), with outputs' images
extracted instead of inlined; the whole body is then cleaned with nh3's allow-list (nbconvert's
own sanitize_html escapes ordinary Markdown and misses two vectors: reference
notebooks-envs-style.md A4). Every image, extracted or written as a data: URI in Markdown,
leaves the page: it is returned by content hash and the page refers to it as
`__images__/<sha256>.<ext>`, which the gateway points at its image route. Nothing of the
notebook survives as script, event handler, javascript: URL, style, form or frame.

The exporter and the cleaner are built once per worker process (pool initializer) and reused:
building an exporter costs about as much as rendering a small notebook.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

# Bumped whenever the output for the same notebook bytes changes (template, policy, CSS):
# stored renders are keyed by it, so a bump re-renders lazily.
RENDER_VERSION = "v1"
IMAGE_MARKER = "__images__/"

_IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp", "image/svg+xml": "svg"}
_EXT_TYPES = {ext: mime for mime, ext in _IMAGE_TYPES.items()}
_DATA_URI = re.compile(r"^data:(image/(?:png|jpeg|gif|webp|svg\+xml));base64,([A-Za-z0-9+/=\s]+)$", re.IGNORECASE)
_NUMBER = re.compile(r"^\d{1,5}%?$")

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div", "dl",
    "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var", "wbr",
}
_ATTRIBUTES = {
    "*": {"class", "id", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
}


def image_content_type(name: str) -> str | None:
    """The Content-Type of an extracted image file name, None for anything else."""
    return _EXT_TYPES.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None


def image_name(data: bytes, mime: str) -> str:
    return f"{hashlib.sha256(data).hexdigest()}.{_IMAGE_TYPES[mime]}"


class RenderFailed(Exception):
    """A notebook that cannot be rendered; `limit` says why ("invalid", "size")."""

    def __init__(self, message: str, limit: str = "invalid"):
        super().__init__(message)
        self.limit = limit


@dataclass
class RenderOutput:
    html: bytes                                             # the whole page, UTF-8
    images: dict[str, bytes] = field(default_factory=dict)  # "<sha256>.<ext>" -> bytes


def _stylesheet() -> str:
    from pygments.formatters import HtmlFormatter

    return (
        "body{margin:0;padding:1rem 2rem;font:15px/1.5 system-ui,sans-serif;color:#1f2328;background:#fff}"
        "main{max-width:60rem;margin:auto}"
        ".jp-Cell{margin:.75rem 0}.jp-InputPrompt,.jp-OutputPrompt{display:none}"
        "pre{background:#f6f8fa;padding:.6rem .8rem;overflow-x:auto;border-radius:4px;font:13px/1.4 ui-monospace,monospace}"
        ".jp-OutputArea pre{background:#fff;border-left:3px solid #d0d7de}"
        ".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr'] pre,.jp-OutputArea-output.stderr pre{background:#fff0f0}"
        "img{max-width:100%;height:auto}table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:.2rem .5rem}"
        "a.anchor-link{display:none}"
        + HtmlFormatter(style="default").get_style_defs(".highlight")
    )


STYLESHEET = _stylesheet()


def style_hash() -> str:
    """The CSP source for the page's only stylesheet: 'sha256-...'."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(STYLESHEET.encode()).digest()).decode() + "'"


class NotebookRenderer:
    """One exporter and one cleaner, reused for every notebook a worker renders."""

    def __init__(self, max_output_bytes: int = 32 * 1024 * 1024):
        import nh3
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import ExtractOutputPreprocessor

        self.max_output_bytes = max_output_bytes
        self.exporter = HTMLExporter(template_name="basic", sanitize_html=False, exclude_input_prompt=True, exclude_output_prompt=True)
        extractor = ExtractOutputPreprocessor()
        extractor.extract_output_types = set(_IMAGE_TYPES)
        self.exporter.register_preprocessor(extractor, enabled=True)
        self._nh3 = nh3

    def render(self, raw: bytes) -> RenderOutput:
        import nbformat

        try:
            nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        except Exception as e:  # nbformat raises many kinds for a broken file
            raise RenderFailed(f"not a readable notebook: {str(e).splitlines()[0][:200] if str(e) else type(e).__name__}") from None
        try:
            with warnings.catch_warnings():
                # "IPython3 lexer unavailable": code is highlighted as Python instead, as intended
                warnings.simplefilter("ignore", UserWarning)
                body, resources = self.exporter.from_notebook_node(nb)
        except Exception as e:
            raise RenderFailed(f"nbconvert could not render this notebook: {type(e).__name__}: {str(e)[:200]}") from None
        extracted: dict[str, bytes] = resources.get("outputs") or {}
        images: dict[str, bytes] = {}

        def keep_image(data: bytes, mime: str) -> str:
            name = image_name(data, mime)
            images[name] = data
            return IMAGE_MARKER + name

        def attribute_filter(tag: str, attr: str, value: str) -> str | None:
            if attr in ("width", "height"):
                return value if _NUMBER.match(value.strip()) else None
            if attr == "href":
                return None if value.strip().lower().startswith("data:") else value
            if attr != "src":
                return value
            if tag != "img":
                return None
            m = _DATA_URI.match(value.strip())
            if m:
                try:
                    return keep_image(base64.b64decode(m.group(2), validate=False), m.group(1).lower())
                except ValueError:
                    return None
            data = extracted.get(value)
            mime = image_content_type(value)
            if data is not None and mime is not None:
                return keep_image(data, mime)
            # anything else (remote, relative, attachment:) is not served: the page's CSP would
            # block it and a remote image would tell a third party who reads the notebook
            return None

        clean = self._nh3.clean(
            body,
            tags=_TAGS,
            clean_content_tags={"script", "style", "iframe", "object", "embed", "template", "svg", "math", "noscript", "textarea", "select"},
            attributes=_ATTRIBUTES,
            attribute_filter=attribute_filter,
            url_schemes={"http", "https", "mailto", "data"},
            link_rel="noopener noreferrer nofollow",
            strip_comments=True,
        )
        title = html.escape(str((nb.get("metadata") or {}).get("title") or "Notebook"))[:200]
        page = (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta name="referrer" content="no-referrer"><style>{STYLESHEET}</style></head>'
            f'<body><main class="notebook">{clean}</main></body></html>\n'
        ).encode()
        total = len(page) + sum(len(b) for b in images.values())
        if total > self.max_output_bytes:
            raise RenderFailed(f"the rendered notebook is {total} bytes, more than the limit of {self.max_output_bytes}", limit="size")
        return RenderOutput(html=page, images=images)


# --- the worker-process side -----------------------------------------------------------

_WORKER: NotebookRenderer | None = None


def init_worker(max_output_bytes: int) -> None:
    global _WORKER
    _WORKER = NotebookRenderer(max_output_bytes)


def render_in_worker(raw: bytes) -> tuple[str, Any]:
    """("ok", RenderOutput) or ("failed", (message, limit)): exceptions never cross the pipe."""
    assert _WORKER is not None, "init_worker was not run"
    try:
        return "ok", _WORKER.render(raw)
    except RenderFailed as e:
        return "failed", (str(e), e.limit)
