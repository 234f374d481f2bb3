"""The ``/telemetry`` page: pick a bucket, measurement, tags, channels and a time range; a
live-updating chart (uPlot, vendored); and a lap overlay against the car's best lap.

Plain HTML plus our script; uPlot is served from ``/static/telemetry/vendor/uplot`` (no CDN).
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>trackside — telemetry</title>
<link rel="stylesheet" href="/static/board.css">
<link rel="stylesheet" href="/static/telemetry/vendor/uplot/uPlot.min.css">
<link rel="stylesheet" href="/static/telemetry/telemetry.css"></head>
<body>
<header><h1><a href="/">trackside</a> · telemetry</h1>
<div class="sub" id="who"></div></header>
<form id="login" class="panel" hidden>
  <label>Username <input name="username" autocomplete="username" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"
    required></label>
  <button>Log in</button> <span id="login-error" class="error"></span>
</form>
<section id="explore" class="panel" hidden>
  <div class="controls">
    <label>Bucket <input id="bucket" value="telemetry" size="12"></label>
    <label>Measurement <select id="measurement"></select></label>
    <span id="tags"></span>
    <label>Range <select id="range">
      <option value="5m">last 5 min</option><option value="15m" selected>last 15 min</option>
      <option value="1h">last hour</option><option value="6h">last 6 h</option>
      <option value="24h">last 24 h</option></select></label>
    <label><input type="checkbox" id="live" checked> live</label>
  </div>
  <div class="controls" id="fields"></div>
  <div id="chart" class="chart"></div>
  <div class="small sub" id="chart-status"></div>
</section>
<section id="laps" class="panel" hidden>
  <h2>Lap overlay</h2>
  <div class="controls">
    <label>Event <input id="lap-event" size="5"></label>
    <label>Session <input id="lap-session" size="5"></label>
    <label>Car <input id="lap-car" size="5"></label>
    <label>Lap <input id="lap-number" size="4" value="1"></label>
    <label>Channel <input id="lap-field" value="speed" size="10"></label>
    <button id="lap-show">Overlay with best lap</button>
  </div>
  <div id="lap-chart" class="chart"></div>
  <div class="small sub" id="lap-status"></div>
</section>
<script src="/static/telemetry/vendor/uplot/uPlot.iife.min.js"></script>
<script src="/static/telemetry/telemetry.js"></script>
</body></html>"""


def telemetry_page() -> str:
    return PAGE
