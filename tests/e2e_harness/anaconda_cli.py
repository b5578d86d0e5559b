"""The unmodified anaconda-client, run as a subprocess with its own HOME."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIENT_VENVS = REPO / ".clients"


@dataclass
class AnacondaCLI:
    home: Path
    api_url: str
    version: str = "1.16.0"

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.exe = CLIENT_VENVS / f"anaconda-client-{self.version}" / "bin" / "anaconda"
        if not self.exe.exists():
            raise RuntimeError(f"{self.exe} missing: run `make clients`")
        # The README's way of pointing the client at a server.
        self.run("config", "--set", "sites.local.url", self.api_url, check=True)
        self.run("config", "--set", "default_site", "local", check=True)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BINSTAR_", "ANACONDA_", "PKGCLOUD_"))}
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_STATE_HOME=str(self.home / ".local" / "state"),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            OTEL_SDK_DISABLED="true",
            ANACONDA_TELEMETRY_ENABLED="false",
            NO_PROXY="127.0.0.1,localhost",
            COLUMNS="200",
        )
        return env

    def run(self, *args: str, check: bool = False, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [str(self.exe), *args], env=self.env(), capture_output=True, text=True,
            cwd=cwd or self.home, timeout=timeout, stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"anaconda {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def output(self, *args: str, **kw) -> str:
        p = self.run(*args, **kw)
        return p.stdout + p.stderr
