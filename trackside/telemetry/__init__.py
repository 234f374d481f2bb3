"""Telemetry: points from cars and loggers, stored in a time-series store, queried, charted."""
