"""Every setting of every service, read from the environment (prefix PKGCLOUD_).

One flat namespace because the same variable means the same thing to every service
(an operator sets PKGCLOUD_RABBITMQ_URL once for the whole deployment). The README's
configuration reference is checked against this class by a test.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Default gRPC ports when each service runs in its own process (split / production).
DEFAULT_GRPC_PORTS = {"auth": 50051, "registry": 50052, "index": 50053, "render": 50054}
DEFAULT_METRICS_PORTS = {"auth": 9101, "registry": 9102, "index": 9103, "render": 9104}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PKGCLOUD_", extra="ignore")

    data_dir: Path = Field(Path("./var"), description="Where the embedded defaults keep everything: SQLite files, blobs, sockets.")

    # --- HTTP edge (gateway) ---
    host: str = Field("127.0.0.1", description="Address the gateway's HTTP server binds.")
    port: int = Field(8080, ge=0, le=65535, description="Port of the gateway's HTTP server; 0 = a free port, reported in ADDRESS_FILE.")
    public_url: str = Field("", description="Public base URL of the gateway, e.g. https://pkgs.example.com. Default: http://localhost:PORT.")
    gateway_processes: Literal["auto"] | Annotated[int, Field(ge=1, le=64)] = Field("auto", description="HTTP worker processes of the gateway sharing its port (SO_REUSEPORT): auto = one per CPU core this process may run on (as nginx's worker_processes auto), or a number 1-64. The gateway keeps no state, so N processes serve about N times the requests on N cores; their credential and grant caches follow one access epoch shared through the data dir, so a token revoked or a member removed through any of them is refused by all of them on the next request; each serves its own /metrics.")
    gateway_worker_index: int = Field(0, description="Set by the gateway on the extra worker processes it starts (1..N-1); leave unset.")
    base_domain: str = Field("", description="Base domain for host routing (api.<d>, conda.<d>, pypi.<d>, notebooks.<d>, envs.<d>; bare <d> = web UI). Empty: path prefixes only.")

    # --- gRPC wiring ---
    grpc_listen: str = Field("", description="Address this service's gRPC server listens on when run alone (host:port or unix:/path; port 0 = a free port, reported in ADDRESS_FILE). Default 0.0.0.0:5005x per service.")
    auth_addr: str = Field("", description="gRPC address of auth-svc (host:port or unix:/path). Several replicas: a comma-separated list of host:port, or a DNS name resolving to several; calls go round-robin to those whose health service answers SERVING.")
    registry_addr: str = Field("", description="gRPC address of registry-svc (one or several, as for AUTH_ADDR).")
    index_addr: str = Field("", description="gRPC address of index-svc (one or several, as for AUTH_ADDR).")
    render_addr: str = Field("", description="gRPC address of render-svc (one or several, as for AUTH_ADDR).")
    metrics_port: int = Field(-1, ge=-1, le=65535, description="Prometheus /metrics port of a non-gateway service run alone; -1 = the per-service default 910x, 0 = a free port, reported in ADDRESS_FILE.")
    address_file: Path | None = Field(None, description="When set, the process writes the addresses it listens on (HTTP URL, gRPC address, metrics port) to this file as JSON once it is up: how whoever started it learns the ports it picked for a port of 0.")

    # --- metadata databases ---
    metadata_backend: Literal["sqlite", "mongo"] = Field("sqlite", description="Each service's metadata store: sqlite (embedded) or mongo.")
    sqlite_dir: Path | None = Field(None, description="Folder of the services' SQLite files. Default DATA_DIR/db.")
    mongo_url: str = Field("", description="MongoDB connection URL (metadata_backend=mongo).")
    mongo_db_prefix: str = Field("pkgcloud", description="Each service uses the database <prefix>_<service>.")

    # --- blob store ---
    blob_backend: Literal["filesystem", "minio"] = Field("filesystem", description="Where file bytes live: filesystem (embedded) or minio (any S3 endpoint).")
    blob_dir: Path | None = Field(None, description="Root of the filesystem blob store. Default DATA_DIR/blobs.")
    minio_endpoint: str = Field("", description="host:port of the MinIO / S3 endpoint the services talk to.")
    minio_public_endpoint: str = Field("", description="host:port clients reach for presigned URLs, if it differs from MINIO_ENDPOINT.")
    minio_access_key: str = Field("", description="S3 access key.")
    minio_secret_key: str = Field("", description="S3 secret key.")
    minio_bucket: str = Field("pkgcloud", description="The one bucket every service uses.")
    minio_secure: bool = Field(False, description="Use https to reach the S3 endpoint.")
    minio_region: str = Field("us-east-1", description="S3 region (also avoids a GetBucketLocation round trip).")

    # --- event bus ---
    bus: Literal["inprocess", "rabbitmq"] = Field("inprocess", description="Event bus: inprocess (all-in-one only) or rabbitmq.")
    rabbitmq_url: str = Field("amqp://guest:guest@127.0.0.1:5672/", description="AMQP URL of RabbitMQ.")
    events_exchange: str = Field("pkgcloud.events", description="Durable topic exchange the events are published on.")
    events_queue_prefix: str = Field("pkgcloud", description="Consumer queues are named <prefix>.<service>; the dead-letter queue <prefix>.<service>.dead.")
    events_max_attempts: int = Field(5, description="Deliveries of one event to a failing consumer before it is dead-lettered.")
    events_partitions: int = Field(8, ge=0, le=64, description="Partitions of each event consumer (index-svc, render-svc) on RabbitMQ: an owner's events go to one partition, handled in order by one replica at a time; partitions spread over the replicas. 0 = one queue shared by the replicas (no per-owner order across them). Every replica of a consumer must use the same value (docs/adr/0006).")

    # --- limits and timings ---
    max_upload_bytes: int = Field(5 * 1024**3, description="Largest file an upload may carry.")
    stage_ttl_s: int = Field(3600, description="How long a staged upload stays open.")
    credential_cache_ttl_s: float = Field(1.0, description="How long the gateway caches a resolved credential.")
    outbox_poll_s: float = Field(1.0, description="How often the outbox relay looks for unsent events besides being woken.")
    audit_retention_days: int = Field(365, ge=1, description="How long auth-svc and registry-svc keep audit entries (who changed what); older ones are purged hourly.")

    # --- logs ---
    log_level: str = Field("INFO", description="Log level.")
    log_format: Literal["json", "text"] = Field("json", description="json (one object per line) or text.")

    # Derived paths -----------------------------------------------------------------
    @property
    def resolved_sqlite_dir(self) -> Path:
        return Path(self.sqlite_dir or (self.data_dir / "db"))

    @property
    def resolved_blob_dir(self) -> Path:
        return Path(self.blob_dir or (self.data_dir / "blobs"))

    def sqlite_path(self, service: str) -> Path:
        return self.resolved_sqlite_dir / f"{service}.sqlite3"

    def mongo_db_name(self, service: str) -> str:
        return f"{self.mongo_db_prefix}_{service}"

    def gateway_process_count(self) -> int:
        """GATEWAY_PROCESSES resolved: auto = the CPU cores this process may run on."""
        if self.gateway_processes == "auto":
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
            return max(1, min(64, cores))
        return self.gateway_processes

    def effective_public_url(self) -> str:
        return (self.public_url or f"http://localhost:{self.port}").rstrip("/")


def env_var_names() -> dict[str, str]:
    """PKGCLOUD_* variable -> its description (for the README reference and its test)."""
    out = {}
    for name, field in Settings.model_fields.items():
        out[f"PKGCLOUD_{name.upper()}"] = field.description or ""
    return out
