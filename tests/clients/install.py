"""Install the real clients the end-to-end tests drive, each pinned in its own venv.

Separate venvs because anaconda-client 1.16.0 and 1.13.0 cannot share one, and because the
clients must not see the server's packages. Each venv names its Python: 1.2.2, the seed's
client, runs only on an older one (3.8). A venv is rebuilt only when its lock changes.
Run by `make clients` (part of `make test`).
"""

from __future__ import annotations

import glob
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

# venv name -> (lock file: every package pinned, installed with --no-deps; Python version,
# None: $PYTHON, the one `make` uses)
VENVS = {
    "anaconda-client-1.16.0": (HERE / "anaconda-client-1.16.0.txt", None),
    "anaconda-client-1.13.0": (HERE / "anaconda-client-1.13.0.txt", None),  # notebooks, environments (issue 6)
    "anaconda-client-1.2.2": (HERE / "anaconda-client-1.2.2.txt", "3.8"),  # the seed's walkthrough (issue 13)
    "pip-26.3": (HERE / "pip-26.3.txt", None),
    "twine-7.0.0": (HERE / "twine-7.0.0.txt", None),
}


def find_python(version: str | None) -> str:
    """An interpreter that runs: `pythonX.Y` on PATH, else pyenv's install of X.Y (pyenv's
    shim answers 127 for a version that is installed but not selected)."""
    if version is None:
        return os.environ.get("PYTHON", "python3.11")
    exe = f"python{version}"
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [shutil.which(exe)] + sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/{exe}"), reverse=True)
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    raise SystemExit(f"Python {version} not found (tried {exe} on PATH and {pyenv_root}/versions/{version}.*)")


def install(name: str, lock: Path, version: str | None) -> None:
    venv = CLIENTS / name
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    marker = venv / ".lock-sha256"
    if marker.exists() and marker.read_text() == digest:
        return
    shutil.rmtree(venv, ignore_errors=True)
    python = find_python(version)
    subprocess.run([str(UV), "venv", "--seed", "--python", python, str(venv)], check=True)
    # --compile-bytecode: old clients' SyntaxWarnings come out once here, not in every test's output
    subprocess.run(
        [str(UV), "pip", "install", "--python", str(venv / "bin" / "python"), "--no-deps", "--compile-bytecode", "-r", str(lock)],
        check=True,
    )
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "check"], check=True)
    marker.write_text(digest)
    print(f"installed {name}")


def main() -> None:
    for name, (lock, version) in VENVS.items():
        install(name, lock, version)


if __name__ == "__main__":
    sys.exit(main())
