"""Helpers to run captures through the engine the way ``trackside replay`` does."""

from __future__ import annotations

from pathlib import Path

from trackside.feeds.capture import read_records
from trackside.timing.engine import RaceEngine
from trackside.timing.results import engine_result


def replay(*paths: Path) -> RaceEngine:
    engine = RaceEngine()
    for path in paths:
        for item in read_records(path.read_bytes()):
            engine.apply(item.record)
    return engine


def results(*paths: Path) -> dict:
    return engine_result(replay(*paths))
