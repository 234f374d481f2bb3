"""One settings object for the whole server, read from ``TRACKSIDE_*`` environment variables.

Every setting has a default, so ``trackside serve`` starts with none set.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRACKSIDE_", extra="ignore")

    data_dir: Path = Path("./trackside-data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default: a SQLite file in data_dir."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str | None = Field(
        default=None,
        description="Base URL the server is reached at (links in e-mail, token issuer). "
        "Default: taken from each request.",
    )
    realm: str = "trackside"
    token_audience: str = "trackside"
    log_level: str = "info"

    access_token_ttl_s: int = Field(default=300, gt=0)
    refresh_token_ttl_s: int = Field(default=14 * 24 * 3600, gt=0)
    client_token_ttl_s: int = Field(default=300, gt=0)
    verify_email_ttl_s: int = Field(default=2 * 24 * 3600, gt=0)
    password_reset_ttl_s: int = Field(default=3600, gt=0)
    token_leeway_s: int = Field(default=10, ge=0)

    # argon2id cost; tests lower it, production keeps the library's recommended defaults.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)

    smtp_url: str | None = Field(
        default=None,
        description="smtp://[user:password@]host[:port][?starttls=true] or smtps://…; "
        "without it, mail is written to the log.",
    )
    mail_from: str = "trackside <trackside@localhost>"

    login_rate_limit: int = Field(default=10, ge=1, description="Login attempts per window.")
    write_rate_limit: int = Field(default=120, ge=1, description="Writes per window.")
    relay_rate_limit: int = Field(
        default=3000, ge=1, description="Relay batches per window, per relay client."
    )
    rate_limit_window_s: float = Field(default=60.0, gt=0)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)

    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db for live fan-out across several server nodes; "
        "default: in-process.",
    )
    telemetry_url: str | None = Field(
        default=None,
        description="Where telemetry points go: influxdb://host:8086/db (InfluxDB v1 API); "
        "default: DuckDB at data_dir/telemetry.duckdb.",
    )
    telemetry_rate_limit: int = Field(
        default=1200, ge=1, description="Telemetry write requests per window, per account."
    )
    telemetry_max_body_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1024, description="Largest line-protocol body (gunzipped)."
    )
    telemetry_max_points: int = Field(
        default=10_000, ge=10, description="Most points a telemetry query answers per series."
    )
    processor_idle_timeout_s: float = Field(
        default=600.0,
        gt=0,
        description="Seconds of relay silence after which an event's processor stops and "
        "the event is marked not live.",
    )

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'trackside.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
