"""The live map page: plain HTML with the vendored Leaflet and our own script, nothing from a
CDN; map tiles come from the ``tracking_tile_url`` setting (none: a blank map that still
draws the course, checkpoints, trails and markers)."""

from __future__ import annotations

from html import escape
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"


def map_page(event_id: int, event_name: str, tile_url: str, attribution: str) -> str:
    name = escape(event_name)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} — live map</title>
<link rel="stylesheet" href="/tracking/static/leaflet/leaflet.css">
<link rel="stylesheet" href="/tracking/static/map.css"></head>
<body data-event-id="{event_id}" data-tiles="{escape(tile_url)}"
      data-attribution="{escape(attribution)}">
<header><h1><a href="/">trackside</a> · {name}</h1>
<span id="status" class="down">connecting…</span></header>
<main>
<div id="map"></div>
<aside><table id="field"><thead><tr><th>Who</th><th>Last seen</th><th>km/h</th><th>Batt</th>
</tr></thead><tbody id="rows"></tbody></table>
<p class="hint">Click a name to follow it; click again to stop.</p></aside>
</main>
<script src="/tracking/static/leaflet/leaflet.js"></script>
<script src="/tracking/static/map.js"></script>
</body></html>"""


def not_found_page(message: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found</title>'
        f"</head><body><p>{escape(message)}</p></body></html>"
    )
