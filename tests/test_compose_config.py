"""The production topology files agree with the code: docker-compose.yml and deploy/k8s/.

No Docker engine or cluster here, so the files are read as data (PyYAML) and checked against
what the code defines: the services and their Dockerfiles, the PKGCLOUD_* settings
(servicekit's Settings), the gRPC ports each service listens on. Each check is also run on a
deliberately broken copy of the files, so a check that can no longer fail is noticed.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from pkgcloud_servicekit.settings import DEFAULT_GRPC_PORTS, env_var_names

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = "docker-compose.yml"
K8S = Path("deploy/k8s")

# compose service / target name -> the folder holding its Dockerfile
SERVICE_FOLDERS = {
    "gateway": "gateway",
    "auth": "auth-svc",
    "registry": "registry-svc",
    "index": "index-svc",
    "render": "render-svc",
}
BACKENDS = ("mongodb", "rabbitmq", "minio")
GATEWAY_PUBLISHED_PORT = 8080

_VAR = re.compile(r"\bPKGCLOUD_[A-Z][A-Z0-9_]*\b")


# --- reading the files --------------------------------------------------------------------


def dockerfile_target(path: Path) -> str | None:
    """X of the Dockerfile's last CMD if it is `pkgcloud serve --target X`, else None."""
    cmd = None
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.upper().startswith("CMD "):
            cmd = stripped[4:].strip()
    if cmd is None:
        return None
    try:
        argv = json.loads(cmd) if cmd.startswith("[") else shlex.split(cmd)
    except ValueError:
        return None
    if len(argv) == 4 and argv[:3] == ["pkgcloud", "serve", "--target"]:
        return argv[3]
    return None


def compose_env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def host_port(addr: str) -> tuple[str, int] | None:
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return host, int(port)


def published_ports(service: dict) -> list[tuple[int | None, int]]:
    """(host port, container port) of each published port (short and long syntax)."""
    out: list[tuple[int | None, int]] = []
    for p in service.get("ports") or []:
        if isinstance(p, dict):
            out.append((int(p["published"]) if p.get("published") else None, int(p["target"])))
            continue
        parts = str(p).split("/")[0].split(":")
        container = int(parts[-1])
        published = int(parts[-2]) if len(parts) >= 2 else None
        out.append((published, container))
    return out


def unknown_vars(*paths: Path) -> list[str]:
    """PKGCLOUD_* names used anywhere in these files (values, keys, comments) that are not
    Settings fields: the service would silently ignore them."""
    known = set(env_var_names())
    problems = []
    for path in paths:
        for name in sorted(set(_VAR.findall(path.read_text()))):
            if name not in known:
                problems.append(f"{path.name}: {name} is not a setting")
    return problems


# --- docker-compose.yml ---------------------------------------------------------------------


def compose_problems(root: Path) -> list[str]:
    path = root / COMPOSE
    services: dict = yaml.safe_load(path.read_text()).get("services") or {}
    problems = []
    for name in (*SERVICE_FOLDERS, *BACKENDS):
        if name not in services:
            problems.append(f"missing service {name}")

    targets: dict[str, str] = {}  # compose service -> target its image runs
    for name, folder in SERVICE_FOLDERS.items():
        svc = services.get(name)
        if svc is None:
            continue
        build = svc.get("build")
        if not isinstance(build, dict):
            problems.append(f"{name}: not built with build.context and build.dockerfile")
            continue
        context = (path.parent / build.get("context", ".")).resolve()
        if context != root.resolve():
            problems.append(f"{name}: build context is {build.get('context')!r}, not the repository root")
        dockerfile = (context / build.get("dockerfile", "Dockerfile")).resolve()
        own = (root / folder / "Dockerfile").resolve()
        if dockerfile != own:
            problems.append(f"{name}: builds from {build.get('dockerfile')!r}, not {folder}/Dockerfile")
            continue
        if not dockerfile.is_file():
            problems.append(f"{name}: {folder}/Dockerfile does not exist")
            continue
        target = dockerfile_target(dockerfile)
        if target != name:
            problems.append(f"{name}: {folder}/Dockerfile does not run `pkgcloud serve --target {name}` (found target {target!r})")
        else:
            targets[name] = target
        if not svc.get("healthcheck"):
            problems.append(f"{name}: no healthcheck")
    for name in BACKENDS:
        if name in services and not services[name].get("healthcheck"):
            problems.append(f"{name}: no healthcheck")

    def listen_port(service_name: str) -> int | None:
        env = compose_env(services[service_name])
        listen = env.get("PKGCLOUD_GRPC_LISTEN")
        if listen:
            hp = host_port(listen)
            return hp[1] if hp else None
        return DEFAULT_GRPC_PORTS.get(targets.get(service_name, ""))

    for name, svc in services.items():
        for key, value in compose_env(svc).items():
            if not (key.startswith("PKGCLOUD_") and key.endswith("_ADDR")):
                continue
            peer = key[len("PKGCLOUD_") : -len("_ADDR")].lower()
            hp = host_port(value)
            if hp is None:
                problems.append(f"{name}: {key}={value!r} is not host:port")
                continue
            host, port = hp
            if host not in services:
                problems.append(f"{name}: {key} points at {host!r}, which is not a compose service")
                continue
            if host in SERVICE_FOLDERS and host not in targets:
                continue  # its Dockerfile is already reported above
            if targets.get(host) != peer:
                problems.append(f"{name}: {key} points at {host!r}, which does not run the {peer} target")
                continue
            if port != listen_port(host):
                problems.append(f"{name}: {key} uses port {port}, but {host} listens for gRPC on {listen_port(host)}")

    gateway = services.get("gateway")
    if gateway is not None:
        port = compose_env(gateway).get("PKGCLOUD_PORT", str(8080))
        published = published_ports(gateway)
        if (GATEWAY_PUBLISHED_PORT, int(port) if port.isdigit() else -1) not in published:
            problems.append(f"gateway: PKGCLOUD_PORT={port} but the published ports are {published}, expected {GATEWAY_PUBLISHED_PORT}:{port}")
        if compose_env(gateway).get("PKGCLOUD_HOST") != "0.0.0.0":
            problems.append("gateway: PKGCLOUD_HOST must be 0.0.0.0 in a container")

    return problems + unknown_vars(path)


# --- deploy/k8s ---------------------------------------------------------------------------------


def k8s_docs(root: Path) -> list[tuple[Path, dict]]:
    out = []
    for path in sorted((root / K8S).glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                out.append((path, doc))
    return out


def _container(deploy: dict) -> dict:
    return deploy["spec"]["template"]["spec"]["containers"][0]


def k8s_problems(root: Path) -> list[str]:
    docs = k8s_docs(root)
    by_kind: dict[str, dict[str, dict]] = {}
    for _, doc in docs:
        by_kind.setdefault(doc.get("kind", ""), {})[doc["metadata"]["name"]] = doc
    deployments = by_kind.get("Deployment", {})
    k8s_services = by_kind.get("Service", {})
    configmaps = by_kind.get("ConfigMap", {})
    problems = []
    if not configmaps:
        problems.append("no ConfigMap with the shared settings")

    listen_ports: dict[str, int] = {}  # deployment -> gRPC port it listens on
    target_of: dict[str, str] = {}  # deployment -> target it runs
    for name in SERVICE_FOLDERS:
        dep_name = f"pkgcloud-{name}"
        if not (root / K8S / f"{name}.yaml").is_file():
            problems.append(f"missing {K8S}/{name}.yaml")
        dep = deployments.get(dep_name)
        if dep is None:
            problems.append(f"missing Deployment {dep_name}")
            continue
        if dep_name not in k8s_services:
            problems.append(f"missing Service {dep_name}")
        c = _container(dep)
        argv = [*(c.get("command") or []), *(c.get("args") or [])]
        if argv != ["pkgcloud", "serve", "--target", name]:
            problems.append(f"{dep_name}: runs {argv}, not `pkgcloud serve --target {name}`")
        target_of[dep_name] = name
        for ref in c.get("envFrom") or []:
            cm = (ref.get("configMapRef") or {}).get("name")
            if cm and cm not in configmaps:
                problems.append(f"{dep_name}: envFrom ConfigMap {cm!r} is not defined")
        env = {e["name"]: str(e.get("value", "")) for e in c.get("env") or []}
        if name != "gateway":
            hp = host_port(env.get("PKGCLOUD_GRPC_LISTEN", ""))
            port = hp[1] if hp else DEFAULT_GRPC_PORTS[name]
            listen_ports[dep_name] = port
            if port not in [p.get("containerPort") for p in c.get("ports") or []]:
                problems.append(f"{dep_name}: listens on {port} but declares no such containerPort")

    for cm_name, cm in configmaps.items():
        for key, value in (cm.get("data") or {}).items():
            if not (key.startswith("PKGCLOUD_") and key.endswith("_ADDR")):
                continue
            peer = key[len("PKGCLOUD_") : -len("_ADDR")].lower()
            hp = host_port(str(value))
            if hp is None:
                problems.append(f"{cm_name}: {key}={value!r} is not host:port")
                continue
            host, port = hp
            svc = k8s_services.get(host)
            if svc is None:
                problems.append(f"{cm_name}: {key} points at {host!r}, which is not a Service")
                continue
            if target_of.get(host) != peer:
                problems.append(f"{cm_name}: {key} points at {host!r}, which does not run the {peer} target")
                continue
            svc_port = next((p for p in svc["spec"]["ports"] if p.get("port") == port), None)
            if svc_port is None:
                problems.append(f"{cm_name}: {key} uses port {port}, which Service {host} does not expose")
                continue
            target_port = svc_port.get("targetPort", port)
            if isinstance(target_port, str):
                named = {p.get("name"): p.get("containerPort") for p in _container(deployments[host]).get("ports") or []}
                target_port = named.get(target_port)
            if target_port != listen_ports.get(host):
                problems.append(f"{cm_name}: {key} reaches container port {target_port}, but {host} listens for gRPC on {listen_ports.get(host)}")

    gateway = deployments.get("pkgcloud-gateway")
    if gateway is not None:
        env = {e["name"]: str(e.get("value", "")) for e in _container(gateway).get("env") or []}
        ports = [p.get("containerPort") for p in _container(gateway).get("ports") or []]
        if env.get("PKGCLOUD_HOST") != "0.0.0.0" or int(env.get("PKGCLOUD_PORT", "8080")) not in ports:
            problems.append(f"pkgcloud-gateway: PKGCLOUD_HOST/PORT {env} do not match its containerPorts {ports}")

    return problems + unknown_vars(*sorted((root / K8S).glob("*.yaml")))


# --- the real files ---------------------------------------------------------------------------


def test_compose_matches_the_code():
    assert compose_problems(ROOT) == []


def test_k8s_manifests_match_the_code():
    assert k8s_problems(ROOT) == []


def test_every_service_dockerfile_exists_and_runs_its_target():
    for name, folder in SERVICE_FOLDERS.items():
        dockerfile = ROOT / folder / "Dockerfile"
        assert dockerfile.is_file(), f"{folder}/Dockerfile is missing"
        assert dockerfile_target(dockerfile) == name


# --- each check on a broken copy ----------------------------------------------------------------


@pytest.fixture
def copy_root(tmp_path) -> Path:
    """A copy of the files these checks read, laid out as in the repository."""
    shutil.copy(ROOT / COMPOSE, tmp_path / COMPOSE)
    shutil.copytree(ROOT / K8S, tmp_path / K8S)
    for folder in SERVICE_FOLDERS.values():
        if (ROOT / folder / "Dockerfile").is_file():
            (tmp_path / folder).mkdir()
            shutil.copy(ROOT / folder / "Dockerfile", tmp_path / folder / "Dockerfile")
    return tmp_path


def break_file(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}: the breakage would test nothing"
    path.write_text(text.replace(old, new, 1))


def new_problems(check, root: Path, before: list[str]) -> list[str]:
    return [p for p in check(root) if p not in before]


COMPOSE_BREAKAGES = {
    "missing backend": (COMPOSE, "\n  minio:\n", "\n  minio-renamed:\n", "missing service minio"),
    "missing service": (COMPOSE, "\n  render:\n", "\n  renderer:\n", "missing service render"),
    "foreign dockerfile": (COMPOSE, "dockerfile: index-svc/Dockerfile", "dockerfile: render-svc/Dockerfile", "index: builds from 'render-svc/Dockerfile', not index-svc/Dockerfile"),
    "wrong context": (COMPOSE, "context: .\n      dockerfile: index-svc", "context: ./index-svc\n      dockerfile: index-svc", "index: build context is './index-svc', not the repository root"),
    "dockerfile runs another target": ("index-svc/Dockerfile", '"--target", "index"]', '"--target", "render"]', "index: index-svc/Dockerfile does not run `pkgcloud serve --target index` (found target 'render')"),
    "unknown setting": (COMPOSE, "PKGCLOUD_LOG_LEVEL: INFO", "PKGCLOUD_LOG_LEVEL: INFO\n  PKGCLOUD_LOG_LEVELS: DEBUG", "docker-compose.yml: PKGCLOUD_LOG_LEVELS is not a setting"),
    "addr to a missing service": (COMPOSE, "PKGCLOUD_INDEX_ADDR: index:50053", "PKGCLOUD_INDEX_ADDR: indexer:50053", "gateway: PKGCLOUD_INDEX_ADDR points at 'indexer', which is not a compose service"),
    "addr to another service": (COMPOSE, "PKGCLOUD_INDEX_ADDR: index:50053", "PKGCLOUD_INDEX_ADDR: render:50053", "gateway: PKGCLOUD_INDEX_ADDR points at 'render', which does not run the index target"),
    "addr to another port": (COMPOSE, "PKGCLOUD_INDEX_ADDR: index:50053", "PKGCLOUD_INDEX_ADDR: index:50054", "gateway: PKGCLOUD_INDEX_ADDR uses port 50054, but index listens for gRPC on 50053"),
    "service listens elsewhere": (COMPOSE, "PKGCLOUD_GRPC_LISTEN: 0.0.0.0:50052", "PKGCLOUD_GRPC_LISTEN: 0.0.0.0:50099", "gateway: PKGCLOUD_REGISTRY_ADDR uses port 50052, but registry listens for gRPC on 50099"),
    "published port differs": (COMPOSE, '- "8080:8080"', '- "8080:9090"', "gateway: PKGCLOUD_PORT=8080 but the published ports are [(8080, 9090)], expected 8080:8080"),
    "gateway port differs": (COMPOSE, 'PKGCLOUD_PORT: "8080"', 'PKGCLOUD_PORT: "8081"', "gateway: PKGCLOUD_PORT=8081 but the published ports are [(8080, 8080)], expected 8080:8081"),
    "no healthcheck": (COMPOSE, "    healthcheck:\n      test: [\"CMD\", \"mc\"", "    x-healthcheck:\n      test: [\"CMD\", \"mc\"", "minio: no healthcheck"),
}


@pytest.mark.parametrize("case", sorted(COMPOSE_BREAKAGES))
def test_compose_checks_catch_a_broken_copy(case, copy_root):
    file, old, new, expected = COMPOSE_BREAKAGES[case]
    if not (copy_root / file).exists():
        pytest.skip(f"{file} not written yet")
    before = compose_problems(copy_root)
    break_file(copy_root / file, old, new)
    assert expected in new_problems(compose_problems, copy_root, before)


def test_compose_check_catches_a_missing_dockerfile(copy_root):
    before = compose_problems(copy_root)
    (copy_root / "index-svc" / "Dockerfile").unlink()
    assert new_problems(compose_problems, copy_root, before) == ["index: index-svc/Dockerfile does not exist"]


K8S_BREAKAGES = {
    "unknown setting": ("config.yaml", "PKGCLOUD_LOG_LEVEL: INFO", "PKGCLOUD_LOGLEVEL: INFO", "config.yaml: PKGCLOUD_LOGLEVEL is not a setting"),
    "unknown setting in a deployment": ("index.yaml", "name: PKGCLOUD_METRICS_PORT", "name: PKGCLOUD_METRIC_PORT", "index.yaml: PKGCLOUD_METRIC_PORT is not a setting"),
    "addr to a missing service": ("config.yaml", "PKGCLOUD_INDEX_ADDR: pkgcloud-index:50053", "PKGCLOUD_INDEX_ADDR: index:50053", "pkgcloud-config: PKGCLOUD_INDEX_ADDR points at 'index', which is not a Service"),
    "addr to another service": ("config.yaml", "PKGCLOUD_INDEX_ADDR: pkgcloud-index:50053", "PKGCLOUD_INDEX_ADDR: pkgcloud-render:50054", "pkgcloud-config: PKGCLOUD_INDEX_ADDR points at 'pkgcloud-render', which does not run the index target"),
    "addr to an unexposed port": ("config.yaml", "PKGCLOUD_AUTH_ADDR: pkgcloud-auth:50051", "PKGCLOUD_AUTH_ADDR: pkgcloud-auth:50052", "pkgcloud-config: PKGCLOUD_AUTH_ADDR uses port 50052, which Service pkgcloud-auth does not expose"),
    "service forwards to another port": ("render.yaml", "targetPort: grpc", "targetPort: metrics", "pkgcloud-config: PKGCLOUD_RENDER_ADDR reaches container port 9104, but pkgcloud-render listens for gRPC on 50054"),
    "deployment runs another target": ("registry.yaml", '"--target", "registry"]', '"--target", "auth"]', "pkgcloud-registry: runs ['pkgcloud', 'serve', '--target', 'auth'], not `pkgcloud serve --target registry`"),
    "missing service": ("gateway.yaml", "kind: Service", "kind: ServiceAccount", "missing Service pkgcloud-gateway"),
    "missing configmap": ("index.yaml", "name: pkgcloud-config", "name: pkgcloud-settings", "pkgcloud-index: envFrom ConfigMap 'pkgcloud-settings' is not defined"),
}


@pytest.mark.parametrize("case", sorted(K8S_BREAKAGES))
def test_k8s_checks_catch_a_broken_copy(case, copy_root):
    file, old, new, expected = K8S_BREAKAGES[case]
    before = k8s_problems(copy_root)
    break_file(copy_root / K8S / file, old, new)
    assert expected in new_problems(k8s_problems, copy_root, before)
