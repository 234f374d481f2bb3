"""One settings object for the whole server, read from ``TRACKSIDE_*`` environment variables.

Every setting has a default, so ``trackside serve`` starts with none set.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
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
        "Default: taken from each request, whose Host must then be an allowed host.",
    )
    allowed_hosts: str | None = Field(
        default=None,
        description="Comma-separated Host names the server answers to ('*.example.org' "
        "wildcards; '*' any, only behind a proxy that checks Host). Default: the public URL's "
        "host, the serve address, localhost.",
    )
    realm: str = "trackside"
    token_audience: str = "trackside"
    log_level: str = "info"

    access_token_ttl_s: int = Field(default=300, gt=0)
    refresh_token_ttl_s: int = Field(default=14 * 24 * 3600, gt=0)
    refresh_grace_s: float = Field(
        default=30.0,
        ge=0,
        description="Seconds a just-spent refresh token may be retried once (a lost reply) "
        "before reuse counts as theft.",
    )
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
        "STARTTLS is used whenever offered (required with starttls=true); "
        "without it, mail is written to the log.",
    )
    smtp_allow_plaintext_auth: bool = Field(
        default=False,
        description="Allow sending the SMTP user and password to a server that offers no TLS.",
    )
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle (PEM) to verify the SMTP server's certificate with."
    )
    mail_from: str = "trackside <trackside@localhost>"

    login_rate_limit: int = Field(default=10, ge=1, description="Login attempts per window.")
    write_rate_limit: int = Field(default=120, ge=1, description="Writes per window.")
    relay_rate_limit: int = Field(
        default=3000, ge=1, description="Relay batches per window, per relay client."
    )
    rate_limit_window_s: float = Field(default=60.0, gt=0)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    fetch_allow_private: bool = Field(
        default=False,
        description="Let the control-log poller fetch loopback, private and link-local "
        "addresses (a log on the track's own network); off, only public addresses.",
    )

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
    node_id: str | None = Field(
        default=None,
        description="This server node's name in a cluster (diagnostics, processor leases); "
        "default: host:port.",
    )
    lease_ttl_s: float = Field(
        default=3.0,
        gt=0,
        description="Seconds an event's processor lease lasts unless its node renews it: how "
        "soon another node takes over when the holder dies.",
    )

    # iRacing (trackside/iracing): without a client id its routes answer 503.
    iracing_client_id: str | None = Field(
        default=None, description="The OAuth client id iRacing registered for this server."
    )
    iracing_client_secret: SecretStr | None = Field(
        default=None, description="The client secret iRacing issued (sent masked), if any."
    )
    iracing_redirect_uri: str | None = Field(
        default=None, description="Default: {public URL}/auth/iracing/callback."
    )
    iracing_oauth_url: str = "https://oauth.iracing.com/oauth2"
    iracing_data_url: str = "https://members-ng.iracing.com"
    iracing_sync_interval_min: float = Field(
        default=0.0, ge=0, description="Sync connected iRacing accounts every N minutes; 0: off."
    )
    iracing_rate_limit_wait_s: float = Field(
        default=30.0, ge=0, description="Longest wait for iRacing's rate limit to reset."
    )
    encryption_key: SecretStr | None = Field(
        default=None,
        description="Fernet key for secrets kept at rest (iRacing tokens); default: a 0600 "
        "key file in data_dir, made on first use.",
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
    tracking_batch_gather_s: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="The fix writer waits this long for more fixes before a transaction: "
        "fewer, larger commits under load, each fix acknowledged at most this much later.",
    )

    @property
    def node_name(self) -> str:
        return self.node_id or f"{self.host}:{self.port}"

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'trackside.db').resolve()}"

    @property
    def trusted_hosts(self) -> list[str]:
        """Hosts a request may name: the operator's list, else ours (a forged Host is refused,
        so a link built from the request cannot point anywhere else)."""
        if self.allowed_hosts:
            return [h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()]
        hosts = [self.host.lower(), "localhost", "127.0.0.1", "::1"]
        if self.public_url:
            public = urlsplit(self.public_url).hostname
            hosts.insert(0, (public or "").lower())
        return [host for host in dict.fromkeys(hosts) if host]

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
