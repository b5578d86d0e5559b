"""The notebook inspector: an `.ipynb` must be a notebook nbformat accepts.

Rendering trusts nothing in the file (render-svc sanitizes the HTML); this check only keeps
what is not a notebook at all out of the registry, so every stored version can be rendered
and downloaded as what it claims to be.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from typing import Any

import nbformat
from jsonschema.exceptions import ValidationError
from pkgcloud_servicekit.blobstore import BlobStore
from pkgcloud_servicekit.errors import Invalid, TooLarge

from . import Inspection, UploadContext

# The whole document is parsed in memory; render-svc refuses larger ones anyway.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024


def read_notebook(raw: bytes, basename: str) -> dict[str, Any]:
    """The facts recorded for a valid notebook; Invalid with the reason otherwise."""
    if not basename.endswith(".ipynb"):
        raise Invalid(f"a notebook's file name ends in .ipynb, got {basename!r}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid(f"{basename} is not a notebook: it is not UTF-8 text") from None
    try:
        json.loads(text)
    except ValueError as e:
        raise Invalid(f"{basename} is not a notebook: it is not JSON ({e})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns before it raises; the error says it all
            nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    except ValidationError as e:
        raise Invalid(f"{basename} is not a valid notebook: {e.message[:300]}") from None
    except Exception as e:  # nbformat's readers raise many kinds (KeyError, NotJSONError, ...)
        raise Invalid(f"{basename} is not a valid notebook: {type(e).__name__}: {str(e)[:200]}") from None
    if not isinstance(nb, dict) or "cells" not in nb and "worksheets" not in nb:
        raise Invalid(f"{basename} is not a notebook: it has no cells")
    try:
        nbformat.validate(nb)
    except ValidationError as e:
        raise Invalid(f"{basename} is not a valid notebook (nbformat {nb.get('nbformat')}): {e.message[:300]}") from None
    meta = nb.get("metadata") or {}
    kernel = meta.get("kernelspec") or {}
    language = (meta.get("language_info") or {}).get("name") or kernel.get("language") or ""
    cells = nb.get("cells") or []
    return {
        "nbformat": nb.get("nbformat"),
        "nbformat_minor": nb.get("nbformat_minor"),
        "kernel": str(kernel.get("name") or ""),
        "language": str(language),
        "cells": len(cells),
    }


class NotebookInspector:
    async def inspect(self, blobs: BlobStore, key: str, ctx: UploadContext) -> Inspection:
        if ctx.size > MAX_NOTEBOOK_BYTES:
            raise TooLarge(f"{ctx.basename} is {ctx.size} bytes; notebooks may be at most {MAX_NOTEBOOK_BYTES} bytes")
        raw = await blobs.read_bytes(key)
        facts = await asyncio.to_thread(read_notebook, raw, ctx.basename)
        # what the client sent (e.g. a thumbnail) stays, under what the file itself says
        return Inspection(attrs={**ctx.client_attrs, **facts})


INSPECTOR = NotebookInspector()
