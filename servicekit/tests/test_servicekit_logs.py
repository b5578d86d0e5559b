"""Log lines: batched writes that keep lines whole, warnings at once, the hot-path access
line identical to what the formatter makes, request ids unique."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time

import pytest
from pkgcloud_servicekit import logs


class SlowStream(io.StringIO):
    """Counts writes (one per batch is the point of the sink)."""

    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


def test_lines_are_batched_and_whole():
    stream = SlowStream()
    sink = logs.LineSink(stream, flush_s=60)  # the timer never fires during the test
    threads = [threading.Thread(target=lambda n=n: [sink.write_line(f"t{n} line {i}") for i in range(500)]) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sink.close()
    lines = stream.getvalue().splitlines()
    assert sorted(lines) == sorted(f"t{n} line {i}" for n in range(4) for i in range(500))
    assert stream.writes < 50  # 2,000 lines, a handful of writes


def test_urgent_lines_are_written_at_once_and_the_rest_within_the_flush_interval():
    stream = SlowStream()
    sink = logs.LineSink(stream, flush_s=0.05)
    sink.write_line("quiet")
    sink.write_line("loud", urgent=True)
    assert stream.getvalue() == "quiet\nloud\n"
    sink.write_line("later")
    deadline = time.monotonic() + 5
    while "later" not in stream.getvalue():
        assert time.monotonic() < deadline, "the flush thread never wrote the line"
        time.sleep(0.01)
    sink.close()


@pytest.fixture
def json_logging():
    saved = logging.root.handlers[:], logging.root.level
    stream = io.StringIO()
    logs.setup_logging("INFO", "json")
    handler = logging.root.handlers[0]
    handler.sink.stream = stream
    yield handler, stream
    logging.root.handlers[:], _ = saved
    logging.root.setLevel(saved[1])
    logs._direct = None


def test_the_direct_access_line_matches_the_formatter(json_logging):
    handler, stream = json_logging
    logging.root.handlers[:] = [handler]  # as in a service (pytest adds its capture handlers per test)
    log = logging.getLogger("pkgcloud_gateway.access")
    fields = {"method": "GET", "path": "/pypi/x/simple/", "status": 200}
    records: list[logging.LogRecord] = []
    handler.addFilter(lambda r: records.append(r) or True)
    token = logs.request_id_var.set("rid-1")
    try:
        logs.info_fields(log, "GET /pypi/x/simple/ 200", fields)
        handler.sink.flush()
        direct = json.loads(stream.getvalue().splitlines()[-1])
        assert records == []  # no LogRecord was made
        logs._direct = None  # the slow path: a LogRecord through the handler
        logs.info_fields(log, "GET /pypi/x/simple/ 200", fields)
        handler.sink.flush()
        through_logging = json.loads(stream.getvalue().splitlines()[-1])
        assert len(records) == 1
    finally:
        logs.request_id_var.reset(token)
    for line in (direct, through_logging):  # the same shape of timestamp (the instants differ)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line.pop("ts"))
    assert direct == through_logging
    assert direct["request_id"] == "rid-1" and direct["status"] == 200 and direct["msg"] == "GET /pypi/x/simple/ 200"


def test_a_warning_reaches_the_stream_at_once(json_logging):
    _, stream = json_logging
    logging.getLogger("pkgcloud.test").warning("disk almost full")
    assert json.loads(stream.getvalue().splitlines()[-1])["msg"] == "disk almost full"


def test_the_level_still_applies_to_the_direct_path(json_logging):
    handler, stream = json_logging
    logging.root.handlers[:] = [handler]
    logging.root.setLevel("WARNING")
    logs.info_fields(logging.getLogger("pkgcloud_gateway.access"), "GET / 200", {"status": 200})
    handler.sink.flush()
    assert stream.getvalue() == ""


def test_request_ids_are_unique_32_hex_digits():
    ids = {logs.new_request_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
