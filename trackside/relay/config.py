"""What a relay is told to do, checked before it starts: the server, the event, the sources.

Source names are what the server files records under, and their sequence numbers continue
across restarts only under the same name. So names come from the kind and the order of the
options, the first of a kind plain (``rmonitor``) and the next suffixed (``rmonitor-2``):
adding a second feed later does not rename the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from trackside.relay.sources import P3, RMONITOR

RMONITOR_PORT = 50000
P3_PORT = 5403
MAX_SOURCE_NAME = 100


class ConfigError(ValueError):
    """A bad option value; the message says which option and what is expected."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    kind: str  # the records' type: "rmonitor" or "p3"
    name: str
    host: str | None = None
    port: int | None = None
    path: Path | None = None

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else f"tcp://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class RelayConfig:
    server: str
    event_id: str
    client_id: str
    client_secret: str = field(repr=False)
    sources: tuple[SourceSpec, ...]
    queue_path: Path
    retry_max: float = 30.0
    idle_timeout: float = 30.0


def parse_server(url: str) -> str:
    """The server's base URL (http or https), without a trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"--server: use an http:// or https:// URL, not {url!r}")
    if not parts.hostname:
        raise ConfigError(f"--server: no host in {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError("--server: give the base URL only (no credentials, query or fragment)")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ConfigError(f"--server: bad port in {url!r}") from None
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def parse_tcp(option: str, url: str, default_port: int) -> tuple[str, int]:
    """``tcp://HOST[:PORT]`` → (host, port)."""
    parts = urlsplit(url.strip())
    if parts.scheme != "tcp":
        raise ConfigError(f"{option}: use tcp://HOST:PORT, not {url!r}")
    if not parts.hostname:
        raise ConfigError(f"{option}: no host in {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"{option}: tcp://HOST:PORT takes no path or query ({url!r})")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{option}: bad port in {url!r}") from None
    if port == 0:
        raise ConfigError(f"{option}: bad port in {url!r}")
    return parts.hostname, default_port if port is None else port


def parse_event(event_id: str) -> str:
    event_id = event_id.strip()
    if not event_id or "/" in event_id:
        raise ConfigError(f"--event: give the event's id, e.g. 42 (not {event_id!r})")
    return event_id


def _name(kind: str, index: int) -> str:
    return kind if index == 0 else f"{kind}-{index + 1}"


def name_sources(
    rmonitor: list[str], rmonitor_files: list[Path], p3: list[str]
) -> tuple[SourceSpec, ...]:
    """The sources in option order, each with its stable name."""
    specs: list[SourceSpec] = []
    for i, url in enumerate(rmonitor):
        host, port = parse_tcp("--rmonitor", url, RMONITOR_PORT)
        specs.append(SourceSpec(RMONITOR, _name("rmonitor", i), host=host, port=port))
    for i, path in enumerate(rmonitor_files):
        if path.is_dir():
            raise ConfigError(f"--rmonitor-file: {path} is a directory")
        specs.append(SourceSpec(RMONITOR, _name("rmonitor-file", i), path=path.absolute()))
    for i, url in enumerate(p3):
        host, port = parse_tcp("--p3", url, P3_PORT)
        specs.append(SourceSpec(P3, _name("p3", i), host=host, port=port))
    if not specs:
        raise ConfigError("give at least one source: --rmonitor, --rmonitor-file or --p3")
    return tuple(specs)
