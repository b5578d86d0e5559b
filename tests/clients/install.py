"""Install the real clients the end-to-end tests drive, each pinned in its own venv.

Separate venvs because anaconda-client 1.16.0 and 1.13.0 cannot share one, and because the
clients must not see the server's packages. A venv is rebuilt only when its lock changes.
Run by `make clients` (part of `make test`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIENTS = REPO / ".clients"
UV = REPO / ".tools" / "bin" / "uv"
HERE = Path(__file__).resolve().parent

# venv name -> lock file (every package pinned, installed with --no-deps)
VENVS = {
    "anaconda-client-1.16.0": HERE / "anaconda-client-1.16.0.txt",
    "anaconda-client-1.13.0": HERE / "anaconda-client-1.13.0.txt",  # notebooks, environments (issue 6)
    "pip-26.3": HERE / "pip-26.3.txt",
    "twine-7.0.0": HERE / "twine-7.0.0.txt",
}


def install(name: str, lock: Path) -> None:
    venv = CLIENTS / name
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    marker = venv / ".lock-sha256"
    if marker.exists() and marker.read_text() == digest:
        return
    shutil.rmtree(venv, ignore_errors=True)
    python = os.environ.get("PYTHON", "python3.11")
    subprocess.run([str(UV), "venv", "--seed", "--python", python, str(venv)], check=True)
    subprocess.run(
        [str(UV), "pip", "install", "--python", str(venv / "bin" / "python"), "--no-deps", "-r", str(lock)],
        check=True,
    )
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "check"], check=True)
    marker.write_text(digest)
    print(f"installed {name}")


def main() -> None:
    for name, lock in VENVS.items():
        install(name, lock)


if __name__ == "__main__":
    sys.exit(main())
