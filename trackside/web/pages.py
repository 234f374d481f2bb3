"""HTML pages: the events list and the live timing board. Plain HTML, our own script and
stylesheet from ``/static``; nothing from a CDN, nothing to build, works offline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/static/board.css"></head>"""


@dataclass(slots=True)
class EventLink:
    """One line of the events list."""

    id: int
    name: str
    location: str
    start: datetime | None
    live: bool


def index_page(events: Iterable[EventLink]) -> str:
    items = []
    for event in events:
        when = event.start.strftime("%a %d %b %Y") if event.start else ""
        badge = '<span class="live-badge">LIVE</span>' if event.live else ""
        items.append(
            f'<li><a href="/events/{event.id}">{escape(event.name)}</a>{badge}'
            f'<div class="when">{escape(when)} {escape(event.location)}</div></li>'
        )
    body = "\n".join(items) or "<li>No events yet.</li>"
    return (
        _HEAD.format(title="trackside — events")
        + '<body><header><h1>trackside</h1><div class="sub">Events</div></header>'
        + f'<ul class="events">{body}</ul></body></html>'
    )


def board_page(event_id: int, event_name: str) -> str:
    name = escape(event_name)
    return (
        _HEAD.format(title=f"{name} — live timing")
        + f"""<body data-event-id="{event_id}">
<div id="flagbar" class="none" title="flag"></div>
<header><h1><a href="/">trackside</a> · {name}</h1>
<div class="sub"><span id="name">Connecting…</span> <span id="track"></span></div></header>
<div class="bar">
  <div><div class="label">Flag</div><div class="clock" id="flag">none</div></div>
  <div><div class="label">To go</div><div class="clock" id="togo">—</div></div>
  <div><div class="label">Race time</div><div class="clock" id="racetime">--:--:--</div></div>
  <div><div class="label">Results</div><div class="clock" id="official">—</div></div>
  <label>Session <select id="session"></select></label>
  <label>Class <select id="klass"><option value="">All classes</option></select></label>
  <div id="status">connecting…</div>
</div>
<div class="tablewrap"><table id="board">
<thead><tr><th>Pos</th><th class="l">No</th><th class="l opt">Class</th><th class="opt">PIC</th>
<th class="l">Name</th><th>Laps</th><th>Last</th><th class="opt">Best</th><th>Gap</th>
<th class="opt">Diff</th><th class="opt">+/-</th></tr></thead>
<tbody id="rows"></tbody></table></div>
<div class="small sub" style="padding:4px 14px" id="updated"></div>
<section class="charts">
<img id="chart-positions" alt="Position chart">
<img id="chart-laps" alt="Lap time chart">
</section>
<script src="/static/patch.js"></script>
<script src="/static/board.js"></script>
</body></html>"""
    )


def not_found_page(message: str) -> str:
    return (
        _HEAD.format(title="trackside — not found")
        + '<body><header><h1><a href="/">trackside</a></h1>'
        + f'<div class="sub">{escape(message)}</div></header></body></html>'
    )
