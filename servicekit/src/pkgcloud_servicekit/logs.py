"""Structured log lines carrying the request id of the work they belong to.

The request id lives in a contextvar: the gateway sets it per HTTP request, the gRPC client
interceptor sends it as `x-request-id` metadata, the server interceptor restores it, and
the outbox stores it with each event so consumers log under the same id.

Lines are written in batches (LineSink): a busy gateway logs one access line per request, and
a write(2) per line cost more than the rest of serving a cached index page. Warnings and
errors are written at once; everything else within LINE_FLUSH_S.
"""

from __future__ import annotations

import atexit
import contextvars
import itertools
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any, TextIO

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
service_var: contextvars.ContextVar[str] = contextvars.ContextVar("service", default="-")

REQUEST_ID_HEADER = "x-request-id"


# Request ids need to be unique, not secret: a random per-process prefix and a counter cost
# a fraction of uuid4 (which reads os.urandom on every call).
_RID_PREFIX = os.urandom(8).hex()
_rid_counter = itertools.count(1)

#: the longest a non-urgent line waits in the buffer
LINE_FLUSH_S = 0.2
_FLUSH_BYTES = 64 * 1024


def new_request_id() -> str:
    return f"{_RID_PREFIX}{next(_rid_counter):016x}"  # 32 hex digits, as a uuid4 hex


class LineSink:
    """Whole lines gathered and written to a stream in batches, from any thread.

    A line never straddles two writes, so lines from several processes sharing a stream stay
    whole. A daemon thread writes what is waiting every LINE_FLUSH_S; `urgent` lines (and a
    full buffer) are written at once; exit writes the rest."""

    def __init__(self, stream: TextIO, flush_s: float = LINE_FLUSH_S):
        self.stream = stream
        self._lines: list[str] = []
        self._size = 0
        self._lock = threading.Lock()
        self._flush_s = flush_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-flush", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def write_line(self, line: str, urgent: bool = False) -> None:
        with self._lock:
            self._lines.append(line)
            self._size += len(line)
            if urgent or self._size >= _FLUSH_BYTES:
                self._write_locked()

    def flush(self) -> None:
        with self._lock:
            self._write_locked()

    def close(self) -> None:
        self._stopped.set()
        self.flush()

    def _write_locked(self) -> None:
        if not self._lines:
            return
        data = "\n".join(self._lines) + "\n"
        self._lines.clear()
        self._size = 0
        try:
            self.stream.write(data)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken stderr must not take the service down

    def _run(self) -> None:
        while not self._stopped.wait(self._flush_s):
            self.flush()


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.service = service_var.get()
        return True


_second: tuple[int, str] = (-1, "")  # the last whole second formatted (strftime is slow)


def _timestamp(created: float) -> str:
    global _second
    whole, text = _second  # one tuple: threads never see one second's number with another's text
    if whole != int(created):
        whole, text = _second = (int(created), time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(created))))
    return f"{text}.{int(created * 1000) % 1000:03d}Z"


def _json_line(created: float, level: str, service: str, request_id: str, logger: str, msg: str,
               fields: Mapping[str, Any] | None) -> str:
    out = {"ts": _timestamp(created), "level": level, "service": service, "request_id": request_id, "logger": logger, "msg": msg}
    if fields:
        out.update(fields)
    return json.dumps(out, default=str)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = _json_line(record.created, record.levelname.lower(), getattr(record, "service", "-"),
                          getattr(record, "request_id", "-"), record.name, record.getMessage(), getattr(record, "fields", None))
        if record.exc_info:
            out = json.loads(line)
            out["exc"] = self.formatException(record.exc_info)
            line = json.dumps(out, default=str)
        return line


class SinkHandler(logging.Handler):
    """A logging handler writing formatted records to a LineSink (warnings and up at once)."""

    def __init__(self, sink: LineSink):
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink.write_line(self.format(record), urgent=record.levelno >= logging.WARNING)
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        self.sink.flush()


_direct: SinkHandler | None = None  # set by setup_logging when lines are JSON


def info_fields(logger: logging.Logger, msg: str, fields: Mapping[str, Any]) -> None:
    """logger.info(msg, extra={"fields": fields}) for hot paths (the access log): with the
    JSON sink installed, the line is formatted straight into it, skipping the LogRecord,
    caller lookup and handler chain, which cost more than serving a cached page. The line
    is the same as the formatter would make; `msg` is already formatted."""
    handler = _direct
    installed = logging.root.handlers
    # only while our handler is the one root handler (a test's caplog adds its own)
    if handler is None or len(installed) != 1 or installed[0] is not handler or not logger.isEnabledFor(logging.INFO):
        logger.info("%s", msg, extra={"fields": fields})
        return
    handler.sink.write_line(_json_line(time.time(), "info", service_var.get(), request_id_var.get(), logger.name, msg, fields))


def setup_logging(level: str = "INFO", fmt: str = "json") -> None:
    global _direct
    handler = SinkHandler(LineSink(sys.stderr))
    handler.addFilter(_ContextFilter())
    _direct = None
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
        _direct = handler
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(service)s %(request_id)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aio_pika", "aiormq", "aiohttp.access", "pymongo", "urllib3"):
        logging.getLogger(noisy).setLevel("WARNING")
