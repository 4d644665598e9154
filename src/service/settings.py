"""The one settings object. Every DISPUTES_* variable is read here, and the
eventsourcing environment (PERSISTENCE_MODULE, SQLITE_*, POSTGRES_*) is
derived from it, never read from os.environ elsewhere."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, TypeAdapter, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.policy import Policy

DEFAULT_DATABASE_URL = "sqlite:///var/disputes.sqlite"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISPUTES_", extra="ignore", hide_input_in_errors=True)

    env: Literal["dev", "test", "production"] = "dev"
    database_url: str = DEFAULT_DATABASE_URL
    postgres_schema: str = ""
    postgres_pool_size: int = Field(default=5, ge=1)
    postgres_max_overflow: int = Field(default=10, ge=0)
    jwt_secret: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = Path("var")
    blob_dir: Path = Path("var/blobs")
    max_evidence_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_evidence_bytes_per_party: int = Field(default=50 * 1024 * 1024, gt=0)
    seller_response_window: timedelta = timedelta(days=5)
    negotiation_window: timedelta = timedelta(days=15)
    return_shipping_window: timedelta = timedelta(days=10)
    return_receipt_window: timedelta = timedelta(days=10)
    evidence_window: timedelta = timedelta(days=7)
    review_sla: timedelta = timedelta(days=7)
    penalty_window: timedelta = timedelta(days=90)
    penalty_weights: str = Field(default="", description='JSON overrides, e.g. {"opened": 2}')
    scheduler_interval: timedelta = timedelta(seconds=1)
    snapshot_interval: int = Field(default=50, ge=0)
    aggregate_cache_size: int = Field(default=10000, ge=0, description="disputes kept in memory (0: off)")
    cipher_key: str | None = None
    in_process_workers: bool = True
    group_commit: bool = Field(default=True, description="concurrent commands share write transactions")
    max_ready_lag: int = Field(default=1000, ge=0, description="events a view may trail by and be ready")
    # The event feed, the stream and webhooks (docs/webhooks.md).
    stream_heartbeat: timedelta = Field(default=timedelta(seconds=15), le=timedelta(seconds=15))
    stream_max_duration: timedelta = timedelta(minutes=5)
    webhook_retry_schedule: str = "PT5S,PT5M,PT30M,PT2H,PT5H,PT10H"
    webhook_allow_private: bool | None = Field(default=None, description="default: true in dev and test only")
    webhook_workers: int = Field(default=4, ge=1, description="subscriptions one delivery worker serves at once")
    fault_injection: Literal["", "crash_after_commit"] = Field(
        default="", description="dev/test only: crash_after_commit exits after a command commits, before it answers"
    )

    @model_validator(mode="after")
    def faults_only_in_dev_and_test(self) -> Settings:
        if self.fault_injection and self.env not in ("dev", "test"):
            raise ValueError("DISPUTES_FAULT_INJECTION is refused outside dev and test")
        return self

    @field_validator(
        "seller_response_window",
        "negotiation_window",
        "return_shipping_window",
        "return_receipt_window",
        "evidence_window",
        "review_sla",
        "penalty_window",
        "scheduler_interval",
        "stream_heartbeat",
        "stream_max_duration",
    )
    @classmethod
    def positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be a positive ISO 8601 duration")
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def retry_waits(cls, value: str) -> str:
        waits = [TypeAdapter(timedelta).validate_python(part.strip()) for part in value.split(",") if part.strip()]
        if not waits or any(w < timedelta(0) for w in waits):
            raise ValueError("must be comma-separated ISO 8601 durations, e.g. PT5S,PT5M")
        return value

    @property
    def retry_schedule(self) -> list[timedelta]:
        """The wait before each retry of a failed delivery; its length is the number of retries."""
        return [TypeAdapter(timedelta).validate_python(p.strip()) for p in self.webhook_retry_schedule.split(",") if p]

    @property
    def allow_private_webhooks(self) -> bool:
        if self.webhook_allow_private is None:
            return self.env in ("dev", "test")
        return self.webhook_allow_private

    @field_validator("penalty_weights")
    @classmethod
    def known_weights(cls, value: str) -> str:
        if not value:
            return value
        weights = json.loads(value)
        known = {
            "opened",
            "response_deadline_missed",
            "escalated",
            "ruling_refund_full_at_fault",
            "ruling_refund_partial_at_fault",
        }
        if (
            not isinstance(weights, dict)
            or set(weights) - known
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in weights.values())
        ):
            raise ValueError(f"penalty weights must be a JSON object of integers with keys among {sorted(known)}")
        return value

    @field_validator("cipher_key")
    @classmethod
    def aes_key(cls, value: str | None) -> str | None:
        """Empty means no encryption; otherwise a base64 AES key of 16, 24 or 32 bytes."""
        if not value:
            return None
        try:
            size = len(base64.b64decode(value, validate=True))
        except binascii.Error:
            raise ValueError("must be base64 (make one with AESCipher.create_key(32))") from None
        if size not in (16, 24, 32):
            raise ValueError(f"must decode to a 16, 24 or 32 byte AES key, not {size} bytes")
        return value

    @field_validator("database_url")
    @classmethod
    def known_scheme(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in ("memory", "sqlite", "postgresql", "postgres"):
            raise ValueError("use sqlite:///path, postgresql://user:pass@host:port/db or memory://")
        return value

    @property
    def backend(self) -> Literal["memory", "sqlite", "postgres"]:
        scheme = urlsplit(self.database_url).scheme
        if scheme == "memory":
            return "memory"
        return "sqlite" if scheme == "sqlite" else "postgres"

    @property
    def sqlite_path(self) -> str:
        """`sqlite:///relative/path` or `sqlite:////absolute/path`, as SQLAlchemy spells them."""
        return self.database_url.removeprefix("sqlite:///")

    def policy(self) -> Policy:
        return Policy(
            seller_response_window=self.seller_response_window,
            negotiation_window=self.negotiation_window,
            return_shipping_window=self.return_shipping_window,
            return_receipt_window=self.return_receipt_window,
            evidence_window=self.evidence_window,
            review_sla=self.review_sla,
            max_evidence_bytes_per_party=self.max_evidence_bytes_per_party,
        )

    def postgres_params(self) -> dict[str, str]:
        url = urlsplit(self.database_url)
        query = parse_qs(url.query)
        schema = self.postgres_schema or query.get("schema", [""])[0] or "public"
        return {
            "dbname": url.path.lstrip("/") or "postgres",
            "host": url.hostname or "127.0.0.1",
            "port": str(url.port or 5432),
            "user": unquote(url.username or "postgres"),
            "password": unquote(url.password or ""),
            "schema": schema,
        }

    def eventsourcing_env(self) -> dict[str, str]:
        env = {
            "TRANSCODER_TOPIC": "domain.transcodings:DisputeTranscoder",
            "SNAPSHOT_INTERVAL": str(self.snapshot_interval),
            "IS_SNAPSHOTTING_ENABLED": "y" if self.snapshot_interval > 0 else "n",
        }
        if self.aggregate_cache_size > 0:
            # Cached disputes are fast-forwarded from the store on every read, so a
            # write by another process is never missed; the cache only saves replays.
            env.update(AGGREGATE_CACHE_MAXSIZE=str(self.aggregate_cache_size), AGGREGATE_CACHE_FASTFORWARD="y")
        if self.cipher_key:
            env.update(CIPHER_TOPIC="eventsourcing.cipher:AESCipher", CIPHER_KEY=self.cipher_key)
        if self.backend == "memory":
            env["PERSISTENCE_MODULE"] = "store.memory:Factory"
        elif self.backend == "sqlite":
            env.update(
                PERSISTENCE_MODULE="store.sqlite:Factory", SQLITE_DBNAME=self.sqlite_path, SQLITE_LOCK_TIMEOUT="30"
            )
        else:
            pg = self.postgres_params()
            env.update(
                PERSISTENCE_MODULE="store.postgres:Factory",
                POSTGRES_DBNAME=pg["dbname"],
                POSTGRES_HOST=pg["host"],
                POSTGRES_PORT=pg["port"],
                POSTGRES_USER=pg["user"],
                POSTGRES_PASSWORD=pg["password"],
                POSTGRES_SCHEMA=pg["schema"],
                POSTGRES_POOL_SIZE=str(self.postgres_pool_size),
                POSTGRES_MAX_OVERFLOW=str(self.postgres_max_overflow),
                POSTGRES_LOCK_TIMEOUT="10",
            )
        return env
