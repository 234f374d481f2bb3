"""The relay's status line: per source, is the feed connected, how much is queued, sent and
acknowledged, and what is wrong if anything is. It is what the person at the timing stand
looks at, so a refusal (wrong secret, wrong event) shows in red rather than scrolling by.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from trackside.relay.sources import SourceStatus, now_ms
from trackside.relay.uploader import UploadStatus


@dataclass(slots=True)
class Channel:
    """One source of the relay, from feed to server."""

    name: str
    where: str
    source: SourceStatus
    upload: UploadStatus
    queued: int = 0  # the source's last sequence number: every record it ever queued


def _ago(epoch_ms: int | None, now: int) -> str:
    if epoch_ms is None:
        return ""
    seconds = max(0, (now - epoch_ms) // 1000)
    return f" ({seconds} s ago)" if seconds < 120 else f" ({seconds // 60} min ago)"


def line(channel: Channel, now: int | None = None) -> Text:
    """One source's status as one line of text."""
    now = now_ms() if now is None else now
    src, up = channel.source, channel.upload
    text = Text()
    text.append("● " if src.connected else "○ ", style="green" if src.connected else "red")
    text.append(f"{channel.name} ", style="bold")
    text.append(f"{channel.where} ", style="dim")
    text.append("connected" if src.connected else "disconnected")
    if not src.connected and src.last_error:
        text.append(f" ({src.last_error})", style="yellow")
    acked = "-" if up.acked is None else f"{up.acked:,}"
    pending = "" if up.acked is None else f" · pending {max(0, channel.queued - up.acked):,}"
    text.append(f" · queued {channel.queued:,} · sent {up.sent:,} · ack {acked}")
    text.append(_ago(up.acked_at, now) + pending)
    style = {"refused": "bold red", "outage": "yellow"}.get(up.state, "green")
    text.append(f" · {up.state}", style=style)
    if up.error and up.state in ("refused", "outage"):
        text.append(f": {up.error}", style=style)
    if src.dropped_bytes or src.errors:
        text.append(f" · cut {src.dropped_bytes} bytes, {src.errors} bad", style="yellow")
    return text


def table(server: str, event_id: str, channels: list[Channel]) -> Table:
    """All sources under a heading naming where they go."""
    grid = Table.grid()
    grid.add_row(Text(f"trackside relay → {server} · event {event_id}", style="bold"))
    now = now_ms()
    for channel in channels:
        grid.add_row(line(channel, now))
    return grid
