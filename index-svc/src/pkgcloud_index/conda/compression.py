"""zstd as every document is compressed: level 3, one frame with the content size, so an
incremental update and a rebuild give the same bytes.

python-zstandard releases the GIL while compressing, so the big documents are compressed in
worker threads, beside the event loop and each other. A compressor context is not
thread-safe: each thread keeps its own.
"""

from __future__ import annotations

import threading

import zstandard

ZSTD_LEVEL = 3

_local = threading.local()


def zstd(data: bytes) -> bytes:
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True)
    return compressor.compress(data)
