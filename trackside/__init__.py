"""trackside: race timing, scoring and live race data."""

__version__ = "0.1.0"
