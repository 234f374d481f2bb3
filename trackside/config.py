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
    processor_idle_timeout_s: float = Field(
        default=600.0,
        gt=0,
        description="Seconds of relay silence after which an event's processor stops and "
        "the event is marked not live.",
    )

    # Location tracking (trackside/tracking): the live map and the fix writer.
    tracking_tile_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Map tiles of the live map ({z}/{x}/{y}); empty: no tiles (a blank map).",
    )
    tracking_tile_attribution: str = "&copy; OpenStreetMap contributors"
    tracking_map_throttle_s: float = Field(
        default=1.0, ge=0, description="At most one map update per participant this often."
    )
    tracking_stale_s: float = Field(
        default=120.0, gt=0, description="A participant unheard of this long shows as stale."
    )
    tracking_retention_days: int = Field(
        default=365, ge=1, description="Fixes in no event are kept this long (prune)."
    )
    tracking_osmand_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Also serve the OsmAnd / Traccar Client protocol at / on this port (on "
        "TRACKSIDE_HOST), as Traccar serves it on 5055.",
    )
    tracking_max_batch: int = Field(
        default=500, ge=1, description="Fixes written per transaction at most."
    )

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'trackside.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
