"""The suite gives the same answer on every run: what it collects does not depend on when.

pytest-xdist workers collect separately and refuse to run when their collections differ, so
a test id made from generated data (archive bytes carry the time they were built; zip times
have a two-second resolution) fails CI by chance. Two collections at least two seconds
apart must list the same ids.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _collect() -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return sorted(line for line in out.stdout.splitlines() if "::" in line)


def test_two_collections_list_the_same_ids():
    started = time.monotonic()
    first = _collect()
    # straddle at least one zip timestamp tick (2 s) between the two collections
    remaining = 2.1 - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)
    second = _collect()
    assert len(first) > 1000, f"collected only {len(first)} tests"
    only_first = sorted(set(first) - set(second))
    only_second = sorted(set(second) - set(first))
    assert not only_first and not only_second, f"ids differ between collections: {only_first[:5]} vs {only_second[:5]}"
    assert len(first) == len(set(first)), "duplicate test ids"
