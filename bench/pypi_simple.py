"""GET /simple/<project>/ requests per second: pkgcloud's gateway (all-in-one) against
pypiserver (gunicorn, 2 workers, cached-dir backend), devpi-server, and nginx serving
pkgcloud's own pages as static files. One run, one machine, wrk with 32 connections, a
500-file project page and a 5-file one.

    .venv/bin/python bench/pypi_simple.py [--duration 10] [--peers-dir DIR]
    .venv/bin/python bench/pypi_simple.py --baseline 42c88f5 --no-peers   # before/after

`--baseline REV` also measures pkgcloud as it was at commit REV, side by side in the same
run: REV's tree is exported (git archive) and installed from its own lock into a venv in the
temp dir, and both it and the current tree run with one gateway process (older trees have
no PKGCLOUD_GATEWAY_PROCESSES), so the two rows differ by the code alone. The two are then
measured again in six alternating rounds of half --duration each, and their rows are the
medians of those rounds (the machine's speed drifts more than the difference looked for).

Needs wrk and nginx on PATH (Debian: apt-get install -y wrk nginx-light). pypiserver and
devpi-server are installed into their own venvs under --peers-dir (default: a directory
in the system temp dir, reused between runs), never into the workspace.

Every request carries pip's own headers (its PEP 691 Accept, and Accept-Encoding: gzip,
deflate as every pip sends): servers that compress answer compressed, and nginx serves
precompressed .gz files (gzip_static) of the same pages. A last row, "aiohttp (bare)", is
the framework's ceiling here: a two-process aiohttp app with one route answering the same
bytes from memory, with no routing tree, auth, logging or metrics.

No port is picked and released for a server to bind later: pypiserver's gunicorn, nginx and
the bare aiohttp app are started on listening sockets the bench binds (port 0) and hands down
without closing them first; devpi-server binds port 0 itself and the bench reads the port
waitress logs; pkgcloud reports the port it bound to the harness. Every server leads its own
process group, stopped in a finally, also after a failure.

Targets: gateway >= 3x pypiserver, >= 10x devpi, >= 40 % of nginx; the 500-file page at
the rate of the 5-file one.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from e2e_harness.topology import START

PEERS = {
    "pypiserver": ["pypiserver[cache]==2.4.2", "gunicorn==27.0.1"],
    "devpi": ["devpi-server==6.20.3"],
}
PROJECTS = {"big-proj": 500, "small-proj": 5}
JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"
# what pip 26 sends for an index page
PIP_HEADERS = {
    "Accept": "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01",
    "Accept-Encoding": "gzip, deflate",
}
CONNECTIONS = 32
ONE = "pkgcloud gateway, 1 process"
ROUNDS = 6  # --baseline: alternating rounds of the current tree and the baseline
PASSWORD = "bench-password-1"


def listening_socket(port: int = 0, reuse_port: bool = False) -> socket.socket:
    """A TCP socket on 127.0.0.1, bound (port 0: the kernel picks) and listening.

    No port is picked here and released for a server to bind later (another process could
    take it in between): the server is started with this very socket (Procs.start(...,
    sockets=[...]) passes it down) and accepts on it; connections made before it is ready
    wait in the backlog.
    """
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if reuse_port:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("127.0.0.1", port))
        s.listen(1024)
    except BaseException:
        s.close()
        raise
    return s


def wait_http(url: str, timeout: float = 60, proc: subprocess.Popen | None = None, log: Path | None = None, **kw) -> None:
    """Poll url until it answers (below 500); fail at once if proc, the server, has exited."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"server for {url} exited with {proc.returncode}:\n{tail}")
        try:
            if requests.get(url, timeout=2, **kw).status_code < 500:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up")
        time.sleep(0.1)


def wait_log_line(log: Path, pattern: str, proc: subprocess.Popen, timeout: float = 60) -> re.Match:
    """The first match of pattern in the log the server proc writes, once it is there."""
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(errors="replace") if log.exists() else ""
        m = re.search(pattern, text)
        if m:
            return m
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before logging {pattern!r}:\n{text[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc.args[0]} did not log {pattern!r} in {timeout} s:\n{text[-3000:]}")
        time.sleep(0.05)


def sdist(project: str, version: str) -> tuple[str, bytes]:
    """A minimal valid sdist (PKG-INFO only)."""
    module = project.replace("-", "_")
    top = f"{module}-{version}"
    meta = f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\nRequires-Python: >=3.8\n".encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo(f"{top}/PKG-INFO")
        info.size = len(meta)
        info.mtime = 0
        tf.addfile(info, io.BytesIO(meta))
    return f"{top}.tar.gz", buf.getvalue()


def distributions() -> list[tuple[str, str, str, bytes]]:
    out = []
    for project, n in PROJECTS.items():
        for i in range(n):
            version = f"1.0.{i}"
            out.append((project, version, *sdist(project, version)))
    return out


def legacy_upload(session: requests.Session, url: str, auth: tuple[str, str], project: str, version: str, filename: str, data: bytes) -> None:
    fields = {":action": "file_upload", "protocol_version": "1", "name": project, "version": version, "filetype": "sdist",
              "pyversion": "source", "metadata_version": "2.1", "sha256_digest": hashlib.sha256(data).hexdigest(),
              "md5_digest": hashlib.md5(data).hexdigest()}
    header = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    r = session.post(url, data=fields, files={"content": (filename, data, "application/octet-stream")},
                     headers={"Authorization": header}, timeout=60)
    if r.status_code not in (200, 201):
        raise RuntimeError(f"upload of {filename} to {url}: {r.status_code} {r.reason} {r.text[:300]}")


def ensure_peer(peers_dir: Path, name: str) -> Path:
    venv = peers_dir / name
    marker = venv / ".installed"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PEERS[name]], check=True)
        marker.write_text("\n".join(PEERS[name]))
    return venv


def wrk(url: str, duration: int, accept: str | None = None, headers: dict[str, str] | None = None) -> float:
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}s", url]
    if accept:
        cmd[1:1] = ["-H", f"Accept: {accept}"]
    for k, v in (headers or {}).items():
        cmd[1:1] = ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"wrk saw errors on {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


class Procs:
    """Servers a bench starts, each leading its own process group; stop() ends every group."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, cmd: list[str], log: Path, sockets: tuple[socket.socket, ...] = (), **kw) -> subprocess.Popen:
        """Start cmd; the listening sockets are inherited by it (same fd numbers) and then closed
        here, so the child holds them from the start and the port is never free in between."""
        try:
            with open(log, "ab") as out:
                p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                     pass_fds=[s.fileno() for s in sockets], **kw)
        finally:
            for s in sockets:
                s.close()
        self.procs.append(p)
        return p

    def stop(self) -> None:
        for p in self.procs:
            _signal_group(p, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            # what is left of the group (workers of a master that went first, a stuck one) goes now
            _signal_group(p, signal.SIGKILL)
            p.wait()
        self.procs.clear()


def _signal_group(p: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass


def start_nginx(procs: Procs, tmp: Path, server: str, http: str = "") -> int:
    """nginx (daemon off, its own prefix in tmp) with one server block on a listening socket
    bound here: nginx takes over sockets named in its NGINX environment variable ("fd;") whose
    address matches a `listen`, so it never binds the port itself. Returns the port once
    nginx answers on it."""
    sock = listening_socket()
    port = sock.getsockname()[1]
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
worker_processes auto;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
{http}
    server {{
        listen 127.0.0.1:{port};
{server}
    }}
}}
""")
    env = {**os.environ, "NGINX": f"{sock.fileno()};"}
    proc = procs.start([shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(conf), "-p", str(tmp), "-g", "daemon off;"],
                       tmp / "nginx.log", sockets=(sock,), env=env)
    # nginx answers 404 to "/" with only a root set; anything below 500 means it is serving
    wait_http(f"http://127.0.0.1:{port}/", proc=proc, log=tmp / "nginx-error.log")
    return port


def start_pkgcloud(tmp: Path, dists, processes: int) -> tuple[object, str]:
    # as many gateway processes as nginx has workers here (the gateway keeps no state)
    # the harness's START binds port 0 in `pkgcloud all` and waits for the address it reports
    topo = START["all"](tmp / "pkgcloud", PKGCLOUD_GATEWAY_PROCESSES=str(processes))
    try:
        assert topo.pkgcloud("admin", "create-user", "bench", "--password", PASSWORD, "--email", "b@example.com").returncode == 0
        base = topo.api_url.rsplit("/api", 1)[0] + "/pypi"
        with requests.Session() as s:
            for project, version, filename, data in dists:
                legacy_upload(s, f"{base}/bench/", ("bench", PASSWORD), project, version, filename, data)
        wait_until_listed(base)
    except BaseException:
        topo.stop()  # not handed back to main's finally yet
        raise
    return topo, f"{base}/bench/simple"


def wait_until_listed(base: str) -> None:
    for project, n in PROJECTS.items():
        deadline = time.monotonic() + 60
        while True:
            r = requests.get(f"{base}/bench/simple/{project}/", headers={"Accept": JSON_ACCEPT}, timeout=10)
            if r.status_code == 200 and len(r.json()["files"]) == n:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"pkgcloud's page of {project} never listed {n} files")
            time.sleep(0.3)


def listening_port(pid: int, timeout: float = 60) -> int:
    """The TCP port process pid listens on, once it does. For a tree from before servers
    reported their port (ADR 12): it binds port 0 itself, and the kernel says what it got."""
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        ports = {c.laddr.port for c in psutil.Process(pid).net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN}
        if len(ports) == 1:
            return ports.pop()
        if len(ports) > 1:
            raise RuntimeError(f"process {pid} listens on several ports: {sorted(ports)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"process {pid} never listened on a TCP port")
        time.sleep(0.1)


def start_baseline(procs: Procs, tmp: Path, rev: str, dists) -> str:
    """pkgcloud at commit rev, all-in-one with one gateway process; its /simple base URL."""
    root = Path(__file__).resolve().parents[1]
    src, venv, data = tmp / f"baseline-{rev}", tmp / "baseline-venv", tmp / "baseline-data"
    src.mkdir()
    archive = subprocess.run(["git", "-C", str(root), "archive", rev], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tf:
        tf.extractall(src, filter="data")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PKGCLOUD_", "VIRTUAL_ENV", "UV_PROJECT"))}
    subprocess.run([str(root / ".tools" / "bin" / "uv"), "sync", "--frozen", "--all-packages", "--python", "python3.11"],
                   cwd=src, check=True, capture_output=True, env={**env, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"})
    env.update(PKGCLOUD_DATA_DIR=str(data), PKGCLOUD_HOST="127.0.0.1", PKGCLOUD_PORT="0", PKGCLOUD_GATEWAY_PROCESSES="1")
    data.mkdir()
    proc = procs.start([str(venv / "bin" / "pkgcloud"), "all"], tmp / "baseline.log", env=env, cwd=data)
    port = listening_port(proc.pid)
    wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc, log=tmp / "baseline.log")
    made = subprocess.run([str(venv / "bin" / "pkgcloud"), "admin", "create-user", "bench", "--password", PASSWORD,
                           "--email", "b@example.com"], env=env, cwd=data, capture_output=True, text=True, timeout=60)
    if made.returncode != 0:
        raise RuntimeError(f"baseline create-user: {made.stdout}{made.stderr}")
    base = f"http://127.0.0.1:{port}/pypi"
    with requests.Session() as s:
        for project, version, filename, data_ in dists:
            legacy_upload(s, f"{base}/bench/", ("bench", PASSWORD), project, version, filename, data_)
    wait_until_listed(base)
    return f"{base}/bench/simple"


def start_pypiserver(procs: Procs, venv: Path, tmp: Path, dists) -> str:
    root = tmp / "pypiserver-packages"
    root.mkdir()
    for _, _, filename, data in dists:
        (root / filename).write_bytes(data)
    sock = listening_socket()
    port = sock.getsockname()[1]
    app = f"pypiserver:app(roots=[{str(root)!r}], backend_arg='cached-dir', authenticate=[], password_file='.')"
    # gunicorn serves on the inherited socket (fd://N) instead of binding an address; no control
    # socket (gunicorn 27 puts one at a fixed path in $HOME, shared by every run)
    proc = procs.start([str(venv / "bin" / "gunicorn"), "-w", "2", "-b", f"fd://{sock.fileno()}", "--no-control-socket", app],
                       tmp / "pypiserver.log", sockets=(sock,))
    url = f"http://127.0.0.1:{port}/simple"
    wait_http(url + "/", proc=proc, log=tmp / "pypiserver.log")
    return url


def start_devpi(procs: Procs, venv: Path, tmp: Path, dists) -> str:
    data_dir = tmp / "devpi"
    subprocess.run([str(venv / "bin" / "devpi-init"), "--serverdir", str(data_dir), "--root-passwd", PASSWORD, "--no-root-pypi"],
                   check=True, capture_output=True)
    # devpi-server cannot take a socket: it binds port 0 itself (waitress), and the bench reads
    # the port from waitress's "Serving on http://127.0.0.1:N" line (printed once it listens;
    # unbuffered, or it would wait in the log's buffer)
    log = tmp / "devpi.log"
    proc = procs.start([str(venv / "bin" / "devpi-server"), "--serverdir", str(data_dir), "--host", "127.0.0.1", "--port", "0",
                        "--offline-mode"], log, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    port = int(wait_log_line(log, r"Serving on http://127\.0\.0\.1:(\d+)", proc).group(1))
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/+api", proc=proc, log=log)
    auth = ("root", PASSWORD)
    r = requests.put(f"{base}/root/bench", json={"bases": [], "volatile": True}, auth=auth, timeout=30)
    if r.status_code not in (200, 201):
        raise RuntimeError(f"devpi index creation: {r.status_code} {r.text[:300]}")
    with requests.Session() as s:
        for project, version, filename, data in dists:
            legacy_upload(s, f"{base}/root/bench/", auth, project, version, filename, data)
    return f"{base}/root/bench/+simple"


def start_nginx_pages(procs: Procs, tmp: Path, pages: dict[str, bytes]) -> str:
    root = tmp / "nginx-root"
    tmp.chmod(0o755)  # nginx's workers run as an unprivileged user
    for project, body in pages.items():
        (root / "simple" / project).mkdir(parents=True)
        (root / "simple" / project / "index.html").write_bytes(body)
        # precompressed as pkgcloud's gateway does it (level 6), served by gzip_static
        (root / "simple" / project / "index.html.gz").write_bytes(gzip.compress(body, 6, mtime=0))
    port = start_nginx(procs, tmp, f"        root {root};\n        etag on;", http=f"""
    gzip_static on;
    gzip_vary on;
    types {{ application/vnd.pypi.simple.v1+json html; }}
    default_type {JSON_ACCEPT};""")
    return f"http://127.0.0.1:{port}/simple"


BARE_APP = """
import gzip, socket, sys
from aiohttp import web
# argv[1]: the fd of a listening socket inherited from the bench (it never binds a port itself)
sock = socket.socket(fileno=int(sys.argv[1]))
pages = {p: open(f, "rb").read() for p, f in zip(sys.argv[2::2], sys.argv[3::2])}
zipped = {p: gzip.compress(b, 6, mtime=0) for p, b in pages.items()}
async def page(request):
    p = request.match_info["project"]
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        return web.Response(body=zipped[p], headers={"Content-Type": "@ACCEPT@", "Content-Encoding": "gzip", "ETag": '"x"'})
    return web.Response(body=pages[p], headers={"Content-Type": "@ACCEPT@", "ETag": '"x"'})
app = web.Application()
app.router.add_get("/simple/{project}/", page)
web.run_app(app, sock=sock, access_log=None, print=None)
""".replace("@ACCEPT@", JSON_ACCEPT)


def start_bare_aiohttp(procs: Procs, tmp: Path, pages: dict[str, bytes]) -> str:
    """The ceiling of any aiohttp app on this machine: two processes, one route, bytes in memory."""
    script = tmp / "bare_aiohttp.py"
    script.write_text(BARE_APP)
    args = []
    for project, body in pages.items():
        (tmp / f"bare-{project}.json").write_bytes(body)
        args += [project, str(tmp / f"bare-{project}.json")]
    # one SO_REUSEPORT socket per process, as aiohttp's reuse_port=True would make them (the
    # kernel spreads connections across the two), both bound here: the second joins the port
    # while the first holds it, and each process inherits its own
    first = listening_socket(reuse_port=True)
    port = first.getsockname()[1]
    try:
        second = listening_socket(port, reuse_port=True)
    except BaseException:
        first.close()
        raise
    started = []
    try:
        for i, sock in enumerate((first, second)):
            started.append(procs.start([sys.executable, str(script), str(sock.fileno()), *args], tmp / f"bare-{i}.log", sockets=(sock,)))
    finally:
        first.close()  # already closed here once handed on; not left open if a start failed
        second.close()
    url = f"http://127.0.0.1:{port}/simple"
    for i, proc in enumerate(started):
        wait_http(url + "/small-proj/", proc=proc, log=tmp / f"bare-{i}.log")
    return url


def ratio(a: float, b: float) -> float:
    """a / b; NaN (not measured) when b completed no request in the run: a slow peer with a
    short --duration (wrk counts answers slower than its 2 s timeout as errors, not requests)."""
    return a / b if b else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per server and page")
    parser.add_argument("--gateway-processes", type=int, default=2, help="PKGCLOUD_GATEWAY_PROCESSES of the pkgcloud under test")
    parser.add_argument("--peers-dir", type=Path, default=Path(tempfile.gettempdir()) / "pkgcloud-bench-peers")
    parser.add_argument("--baseline", metavar="REV", help="also measure pkgcloud at this commit, both with one gateway process")
    parser.add_argument("--no-peers", action="store_true", help="leave out pypiserver, devpi, nginx and the bare aiohttp app")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            print(f"{tool} is missing: apt-get install -y wrk nginx-light", file=sys.stderr)
            return 2
    args.peers_dir.mkdir(parents=True, exist_ok=True)
    venvs = {} if args.no_peers else {name: ensure_peer(args.peers_dir, name) for name in PEERS}
    dists = distributions()
    procs = Procs()
    topo = topo_one = None
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="pkgcloud-bench-pypi-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            print(f"uploading {len(dists)} sdists to each server ...", flush=True)
            topo, gateway = start_pkgcloud(tmp, dists, args.gateway_processes)
            pages = {p: requests.get(f"{gateway}/{p}/", headers={"Accept": JSON_ACCEPT}, timeout=10).content for p in PROJECTS}
            print("page sizes: " + ", ".join(f"{p} {len(b)} bytes" for p, b in pages.items()), flush=True)
            servers = {"pkgcloud gateway": gateway}
            if args.baseline:
                (tmp / "one").mkdir()
                topo_one, servers[ONE] = start_pkgcloud(tmp / "one", dists, 1)
                servers[f"pkgcloud {args.baseline}, 1 process"] = start_baseline(procs, tmp, args.baseline, dists)
            if not args.no_peers:
                servers.update({
                    "pypiserver": start_pypiserver(procs, venvs["pypiserver"], tmp, dists),
                    "devpi-server": start_devpi(procs, venvs["devpi"], tmp, dists),
                    "nginx (static)": start_nginx_pages(procs, tmp, pages),
                    "aiohttp (bare)": start_bare_aiohttp(procs, tmp, pages),
                })
            for name, base in servers.items():
                for project in PROJECTS:
                    url = f"{base}/{project}/"
                    r = requests.get(url, headers=PIP_HEADERS, timeout=30)  # requests undoes the gzip
                    assert r.status_code == 200 and r.text.count(f"{project.replace('-', '_')}-1.0.") >= PROJECTS[project], (name, url, r.status_code)
                    encoding = r.headers.get("Content-Encoding", "identity")
                    wrk(url, 2, headers=PIP_HEADERS)  # warm-up
                    results.setdefault(name, {})[project] = wrk(url, args.duration, headers=PIP_HEADERS)
                    print(f"  {name:18} {project:11} {results[name][project]:10.0f} req/s  ({encoding})", flush=True)
            if args.baseline:
                # before/after: this machine's speed drifts by several per cent over a minute, so
                # the two are measured in alternating rounds and compared by their medians
                before_name = f"pkgcloud {args.baseline}, 1 process"
                for project in PROJECTS:
                    rounds: dict[str, list[float]] = {ONE: [], before_name: []}
                    for i in range(ROUNDS):
                        order = (ONE, before_name) if i % 2 == 0 else (before_name, ONE)
                        for name in order:
                            rounds[name].append(wrk(f"{servers[name]}/{project}/", max(2, args.duration // 2), headers=PIP_HEADERS))
                    for name, rates in rounds.items():
                        results[name][project] = statistics.median(rates)
                        print(f"  {name:18} {project:11} {results[name][project]:10.0f} req/s  (median of {ROUNDS} alternating rounds: "
                              + " ".join(f"{r:.0f}" for r in rates) + ")", flush=True)
        finally:
            procs.stop()
            for t in (topo, topo_one):
                if t is not None:
                    t.stop()
    gw = results["pkgcloud gateway"]
    print(f"\nGET /simple/<project>/ with pip's headers, wrk -t2 -c{CONNECTIONS} -d{args.duration}s, one machine ({os.cpu_count()} cores)\n")
    print("| server | 500-file page (req/s) | 5-file page (req/s) |")
    print("|---|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['big-proj']:.0f} | {r['small-proj']:.0f} |")
    checks = []
    if not args.no_peers:
        for project, label in (("big-proj", "500 files"), ("small-proj", "5 files")):
            checks.append((f"{label}: gateway / pypiserver >= 3", ratio(gw[project], results["pypiserver"][project]), 3.0))
            checks.append((f"{label}: gateway / devpi >= 10", ratio(gw[project], results["devpi-server"][project]), 10.0))
            checks.append((f"{label}: gateway / nginx >= 0.40", ratio(gw[project], results["nginx (static)"][project]), 0.40))
    checks.append(("gateway: 500-file rate / 5-file rate >= 0.9", ratio(gw["big-proj"], gw["small-proj"]), 0.9))
    if args.baseline:
        # "not lower than before": 0.95 leaves room for this machine's run-to-run noise
        before = results[f"pkgcloud {args.baseline}, 1 process"]
        for project, label in (("big-proj", "500 files"), ("small-proj", "5 files")):
            checks.append((f"{label}: gateway now / at {args.baseline} (1 process each) >= 0.95", ratio(results[ONE][project], before[project]), 0.95))
    print()
    if not args.no_peers:
        bare = results["aiohttp (bare)"]
        for project, label in (("big-proj", "500 files"), ("small-proj", "5 files")):
            print(f"info {label}: aiohttp (bare) / nginx: {ratio(bare[project], results['nginx (static)'][project]):.2f}, "
                  f"gateway / aiohttp (bare): {ratio(gw[project], bare[project]):.2f}")
        print()
    ok = True
    for what, value, target in checks:
        if value != value:  # NaN: a server completed no request, nothing to compare
            ok = False
            print(f"n/a  {what}: a server completed no request in {args.duration} s (raise --duration)")
            continue
        passed = value >= target
        ok &= passed
        print(f"{'ok  ' if passed else 'MISS'} {what}: {value:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
