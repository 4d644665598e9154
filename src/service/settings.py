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
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from psycopg.conninfo import conninfo_to_dict
from pydantic import Field, TypeAdapter, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.policy import Policy


class ConfigurationError(RuntimeError):
    """The settings cannot work together (e.g. no JWT secret outside dev)."""


DEFAULT_DATABASE_URL = "sqlite:///var/disputes.sqlite"


def libpq_params(url: str) -> tuple[dict[str, str], str]:
    """(the URL's connection parameters as libpq reads them, its `?schema=`)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), "")
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    parsed = conninfo_to_dict(urlunsplit(("postgresql", parts.netloc, parts.path, rest, parts.fragment)))
    return {k: str(v) for k, v in parsed.items() if v is not None}, schema


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DISPUTES_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    env: Literal["dev", "test", "production"] = "dev"
    database_url: str = DEFAULT_DATABASE_URL
    postgres_schema: str = ""
    postgres_pool_size: int = Field(default=5, ge=1)
    postgres_max_overflow: int = Field(default=10, ge=0)
    postgres_connect_timeout: int = Field(
        default=5, ge=1, description="seconds to wait for a Postgres connection (pooled or new) before giving up"
    )
    jwt_secret: str | None = None
    jwt_jwks_url: str = Field(default="", description="an identity provider's JWKS: RS256/ES256 tokens only")
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_subject_claim: str = Field(default="sub", min_length=1)
    jwt_role_claim: str = Field(default="role", min_length=1)
    cors_origins: str = Field(default="", description="comma-separated origins browsers may call from (empty: off)")
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
    appeal_window: timedelta = timedelta(days=10)
    penalty_window: timedelta = timedelta(days=90)
    penalty_weights: str = Field(default="", description='JSON overrides, e.g. {"opened": 2}')
    scheduler_interval: timedelta = timedelta(seconds=1)
    snapshot_interval: int = Field(default=50, ge=0)
    aggregate_cache_size: int = Field(default=10000, ge=0, description="disputes kept in memory (0: off)")
    cipher_key: str | None = None
    in_process_workers: bool = True
    web_workers: int = Field(
        default=1, ge=1, description="uvicorn worker processes for `serve` (more than 1: Postgres)"
    )
    group_commit: bool = Field(default=True, description="concurrent commands share write transactions")
    max_ready_lag: int = Field(default=1000, ge=0, description="events a view may trail by and be ready")
    # The event feed, the stream and webhooks (docs/webhooks.md).
    stream_heartbeat: timedelta = Field(default=timedelta(seconds=15), le=timedelta(seconds=15))
    stream_max_duration: timedelta = timedelta(minutes=5)
    webhook_retry_schedule: str = "PT5S,PT5M,PT30M,PT2H,PT5H,PT10H"
    webhook_allow_private: bool | None = Field(default=None, description="default: true in dev and test only")
    webhook_workers: int = Field(default=4, ge=1, description="subscriptions one delivery worker serves at once")
    max_body_bytes: int = Field(default=1024 * 1024, gt=0, description="largest JSON request body (413)")
    max_header_bytes: int = Field(default=16 * 1024, gt=0, description="largest request header block (431)")
    body_read_timeout: timedelta = Field(
        default=timedelta(seconds=30), description="longest wait for the next piece of a request body (408)"
    )
    keep_alive_timeout: timedelta = Field(default=timedelta(seconds=5), description="idle keep-alive connections")
    max_messages_per_dispute: int = Field(default=1000, gt=0)
    require_known_orders: bool = Field(
        default=False, description="refuse disputes on orders the platform never registered (404 order_unknown)"
    )
    rate_limit_storage: str = Field(default="memory://", description="memory:// or redis://host:port/db")
    rate_limit_prefix: str = Field(default="disputes", min_length=1, description="key prefix in the storage")
    command_rate: int = Field(default=50, gt=0, description="commands per second per actor, sustained")
    command_burst: int = Field(default=100, gt=0, description="commands per actor at once")
    read_rate: int = Field(default=200, gt=0, description="reads per second per actor")
    log_format: Literal["json", "console"] = Field(default="json", description="json lines, or console for humans")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    fault_injection: Literal["", "crash_after_commit"] = Field(
        default="", description="dev/test only: crash_after_commit exits after a command commits, before it answers"
    )

    @model_validator(mode="after")
    def faults_only_in_dev_and_test(self) -> Settings:
        if self.fault_injection and self.env not in ("dev", "test"):
            raise ValueError("DISPUTES_FAULT_INJECTION is refused outside dev and test")
        return self

    @model_validator(mode="after")
    def provider_tokens_name_their_issuer_and_audience(self) -> Settings:
        # A provider's keys sign tokens for many applications: only ours may pass.
        if self.jwt_jwks_url and not (self.jwt_issuer and self.jwt_audience):
            raise ValueError("DISPUTES_JWT_JWKS_URL needs DISPUTES_JWT_ISSUER and DISPUTES_JWT_AUDIENCE")
        return self

    @field_validator("jwt_jwks_url")
    @classmethod
    def http_url(cls, value: str) -> str:
        url = urlsplit(value)
        if value and (url.scheme not in ("http", "https") or not url.hostname):
            raise ValueError("must be an http:// or https:// URL (the identity provider's JWKS)")
        return value

    @field_validator("cors_origins")
    @classmethod
    def origins(cls, value: str) -> str:
        for origin in cls.split_origins(value):
            url = urlsplit(origin)
            exact = url.scheme in ("http", "https") and url.hostname and f"{url.scheme}://{url.netloc}" == origin
            if origin != "*" and not exact:
                raise ValueError(f"{origin!r} is not an origin: use scheme://host[:port] (no path), or *")
        return value

    @staticmethod
    def split_origins(value: str) -> list[str]:
        return [origin.strip() for origin in value.split(",") if origin.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return self.split_origins(self.cors_origins)

    @field_validator(
        "seller_response_window",
        "negotiation_window",
        "return_shipping_window",
        "return_receipt_window",
        "evidence_window",
        "review_sla",
        "appeal_window",
        "penalty_window",
        "scheduler_interval",
        "stream_heartbeat",
        "stream_max_duration",
        "body_read_timeout",
        "keep_alive_timeout",
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

    @field_validator("rate_limit_storage")
    @classmethod
    def known_rate_limit_storage(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("memory", "redis", "rediss"):
            raise ValueError("use memory:// or redis://host:port/db")
        return value

    @field_validator("database_url")
    @classmethod
    def known_scheme(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in ("memory", "sqlite", "postgresql", "postgres"):
            raise ValueError("use sqlite:///path, postgresql://user:pass@host:port/db or memory://")
        if scheme.startswith("postgres"):
            try:
                libpq_params(value)
            except Exception as e:  # psycopg.ProgrammingError: libpq's own words
                raise ValueError(f"not a Postgres URL libpq accepts: {e}") from None
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
            appeal_window=self.appeal_window,
            max_evidence_bytes_per_party=self.max_evidence_bytes_per_party,
            max_messages_per_dispute=self.max_messages_per_dispute,
        )

    def postgres_params(self) -> dict[str, str]:
        """The URL parsed by libpq's own rules (psycopg's conninfo), so every
        parameter it carries (sslmode, sslrootcert, connect_timeout, options...)
        reaches every connection; `?schema=` is ours and is taken out first."""
        params, url_schema = libpq_params(self.database_url)
        params.setdefault("dbname", "postgres")
        params.setdefault("host", "127.0.0.1")
        params.setdefault("port", "5432")
        params.setdefault("user", "postgres")
        params.setdefault("password", "")
        params.setdefault("connect_timeout", str(self.postgres_connect_timeout))
        params["schema"] = self.postgres_schema or url_schema or "public"
        return params

    def postgres_extra_params(self) -> dict[str, str]:
        """libpq parameters beyond the five the event store library passes itself."""
        named = {"dbname", "host", "port", "user", "password", "schema"}
        return {k: v for k, v in self.postgres_params().items() if k not in named}

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
                POSTGRES_CONNECT_TIMEOUT=str(self.postgres_connect_timeout),
                POSTGRES_EXTRA_CONNINFO=json.dumps(self.postgres_extra_params()),
            )
        return env
