"""Configuration: read once from ``JIANDU_*`` environment variables (and an optional .env)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ServiceName = Literal["intake", "casework", "projections", "config", "accounts"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JIANDU_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(Path("var"), description="Embedded mode: SQLite files and keys.")
    host: str = "127.0.0.1"
    port: int = 8000

    database_url: str | None = Field(
        None,
        description="PostgreSQL URL (distributed mode). Each service keeps its own schema in it "
        "unless a per-service URL below is set. Unset: SQLite files under data_dir.",
    )
    intake_database_url: str | None = None
    casework_database_url: str | None = None
    projections_database_url: str | None = None
    config_database_url: str | None = None
    accounts_database_url: str | None = None

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_topic_prefix: str = ""
    kafka_partitions: int = Field(6, ge=1)
    kafka_replication_factor: int = Field(1, ge=1, description="3 on a production cluster")
    kafka_fetch_max_wait_ms: int = Field(
        10,
        ge=1,
        description="The consumers' (casework, projections worker) longest wait per fetch: "
        "Tansu holds every fetch this long even when data has arrived, so it bounds the live "
        "lag there; Apache Kafka answers as soon as data is there (a longer wait only saves "
        "idle fetches). docs/decisions/0025, 0026.",
    )
    kafka_session_timeout_ms: int = Field(
        6000,
        ge=1000,
        description="Consumer group session timeout (projections worker, casework): how long "
        "a killed member holds its partitions; on Tansu also how long every rebalance takes "
        "(a join is answered after half of it). Apache Kafka refuses values below its "
        "group.min.session.timeout.ms (6000 by default). docs/decisions/0020.",
    )
    casework_max_poll_records: int = Field(
        1000,
        ge=1,
        description="Casework's consumer: records per poll at most; each partition's share "
        "is processed in one transaction. docs/decisions/0025.",
    )
    kafka_heartbeat_interval_ms: int = Field(
        500,
        ge=100,
        description="How often a member hears of a rebalance (<= a third of the session).",
    )
    projections_worker_port: int | None = Field(
        None,
        description="Port of the projections worker's /healthz and /metrics "
        "(`projections-worker --port`); unset: no HTTP.",
    )

    secret_key: SecretStr | None = Field(
        None,
        description="Master key (base64, 32 bytes) for the reporter vault and pseudonyms. "
        "Embedded mode creates one in data_dir when unset; the distributed mode requires it.",
    )

    auto_accept: bool = Field(
        False,
        description="Off (the default): every registered report waits for an operator's "
        "triage (受理), as in 12380 practice. On: fully in-scope, unsealed reports are accepted "
        "into casework at registration by the intake policy (docs/decisions/0015).",
    )
    relay_batch_size: int = Field(500, ge=1, le=10_000)
    relay_poll_seconds: float = Field(0.2, gt=0)
    follower_poll_seconds: float = Field(0.5, gt=0)

    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For is believed for the client address (default none: the socket peer).",
    )
    follow_up_max_failures: int = Field(
        5, ge=1, description="Failed follow-ups per query code within 15 minutes before a lock."
    )
    follow_up_client_max_failures: int = Field(
        20, ge=1, description="Failed follow-ups per client address within 15 minutes."
    )
    mailbox_daily_limit: int = Field(
        5, ge=1, description="Online mailbox reports per client address within 24 hours."
    )

    demo_password: SecretStr | None = None
    session_hours: float = Field(8, gt=0, le=24 * 30, description="Lifetime of a page session.")
    token_hours: float = Field(12, gt=0, le=24 * 30, description="Lifetime of an API token.")
    log_level: str = "INFO"

    def database_for(self, service: ServiceName) -> str | None:
        specific = {
            "intake": self.intake_database_url,
            "casework": self.casework_database_url,
            "projections": self.projections_database_url,
            "config": self.config_database_url,
            "accounts": self.accounts_database_url,
        }[service]
        return specific or self.database_url

    @property
    def distributed(self) -> bool:
        return self.database_url is not None or any(
            self.database_for(s) for s in ("intake", "casework", "projections")
        )

    @cached_property
    def master_key(self) -> bytes:
        if self.secret_key is not None:
            key = base64.b64decode(self.secret_key.get_secret_value())
            if len(key) != 32:
                raise ValueError("JIANDU_SECRET_KEY must be 32 bytes, base64-encoded")
            return key
        if self.distributed:
            raise ValueError(
                "JIANDU_SECRET_KEY is required with PostgreSQL (distributed mode); create one "
                "once and keep it: jiandu secret-key --write deploy/jiandu.env"
            )
        return _embedded_key(self.data_dir / "secret.key")

    def derived_key(self, purpose: str) -> bytes:
        """A separate key per purpose (HKDF-like expansion of the master key)."""
        return hmac.new(self.master_key, purpose.encode(), hashlib.sha256).digest()


def new_secret_key() -> str:
    """A new master key: base64 of 32 random bytes."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def write_secret_key(env_file: Path, key: str) -> None:
    """Put ``JIANDU_SECRET_KEY=key`` in an env file (an empty ``JIANDU_SECRET_KEY=`` line,
    as in the example, is filled in; otherwise the line is appended), mode 0600.

    Raises FileExistsError when the file already holds a key: a second key would leave the
    stores written with the first unreadable."""
    lines = env_file.read_text(encoding="utf-8").splitlines() if env_file.exists() else []
    for line in lines:
        name, _, value = line.strip().partition("=")
        if name.strip() == "JIANDU_SECRET_KEY" and value.strip():
            raise FileExistsError(
                "it already sets JIANDU_SECRET_KEY; keep that key (the stores were written with it)"
            )
    entry = f"JIANDU_SECRET_KEY={key}"
    empty = [i for i, line in enumerate(lines) if line.strip() == "JIANDU_SECRET_KEY="]
    if empty:
        lines[empty[0]] = entry
    else:
        lines.append(entry)
    env_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    env_file.chmod(0o600)  # an existing file keeps its mode through os.open


def _embedded_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return base64.b64decode(path.read_text().strip())
