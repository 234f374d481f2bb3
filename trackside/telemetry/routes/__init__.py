"""Telemetry's HTTP routes: writes, API tokens, queries, laps and the chart page."""
