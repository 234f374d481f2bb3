"""Replay benchmark: the full-day capture through trackside vs a plain csv split of it.

Prints JSON. Both measurements read the same bytes in the same process; the baseline decodes,
splits lines and runs them through the standard ``csv`` module (the least any RMonitor reader
must do), trackside parses every record into typed records and scores the whole day, including
the final classification of every session. Rates are records per second; ``ratio`` is
trackside's rate over the baseline's (the aim is >= 0.25). Best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import resource
import sys
import time
from pathlib import Path

from trackside.feeds.capture import read_timed
from trackside.timing.engine import RaceEngine
from trackside.timing.results import engine_result

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/rmonitor"
DEFAULT = DEFAULT / "road-america-2025-04-25-full-day.log"


def baseline(data: bytes) -> int:
    """Decode, split lines, csv-split every record line; returns the records seen."""
    lines = data.decode("utf-8-sig").splitlines()
    count = 0
    for row in csv.reader(lines):
        if row and row[0][:1] == "$":
            count += 1
    return count


def trackside(data: bytes) -> int:
    engine = RaceEngine()
    apply = engine.apply
    for _, record in read_timed(data):
        apply(record)
    engine_result(engine)
    return engine.records


def timed(fn, data: bytes) -> tuple[float, float, int]:
    """Wall and CPU seconds of one run (CPU time is steadier on a shared machine)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    count = fn(data)
    return time.perf_counter() - wall, time.process_time() - cpu, count


def interleaved(data: bytes, repeat: int) -> dict[str, tuple[float, float, int]]:
    """Best of ``repeat`` runs each, alternating so both see the same machine load."""
    best: dict[str, tuple[float, float, int]] = {}
    for _ in range(repeat):
        for name, fn in (("baseline", baseline), ("trackside", trackside)):
            wall, cpu, count = timed(fn, data)
            old = best.get(name)
            best[name] = (
                min(wall, old[0]) if old else wall,
                min(cpu, old[1]) if old else cpu,
                count,
            )
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("capture", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    data = args.capture.read_bytes()
    best = interleaved(data, args.repeat)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def figures(name: str) -> dict:
        wall, cpu, count = best[name]
        return {
            "records": count,
            "seconds": round(wall, 4),
            "cpu_seconds": round(cpu, 4),
            "records_per_s": round(count / wall),
            "records_per_cpu_s": round(count / cpu),
        }

    base, ours = figures("baseline"), figures("trackside")
    result = {
        "capture": args.capture.name,
        "bytes": len(data),
        "records": ours["records"],
        "baseline": base,
        "trackside": ours,
        "ratio": round(ours["records_per_s"] / base["records_per_s"], 3),
        "ratio_cpu": round(ours["records_per_cpu_s"] / base["records_per_cpu_s"], 3),
        "whole_file_under_1s": ours["seconds"] < 1.0,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "peak_rss_under_200mb": peak_kb / 1024 < 200,
        "python": sys.version.split()[0],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
