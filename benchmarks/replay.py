"""Replay benchmark: trackside vs a plain csv split of the same bytes, two ways.

Prints JSON. In process: the full-day capture, both read in this process; the baseline decodes,
splits lines and runs them through the standard ``csv`` module (the least any RMonitor reader
must do), trackside parses every record into typed records and scores the whole day, including
the final classification of every session. Whole process (``whole_process``): every capture in
../shared/data/rmonitor concatenated as one raw stream (headers dropped) several times over, to
``--stream-records`` records, in a temporary folder; ``trackside replay STREAM --output``
with default options and its output to a pipe, against a fresh interpreter csv-splitting the
same file, as a user would run them. Rates are records per second; ``ratio`` is trackside's
rate over the baseline's (the aim is >= 0.25, the goal 0.5). Best of ``--repeat`` runs each,
interleaved so both see the same machine load.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trackside.feeds.capture import decode_lines, read_header
from trackside.feeds.line_reader import LineReader
from trackside.timing.results import engine_result
from trackside.timing.scorer import Scorer

CAPTURES = Path(__file__).resolve().parents[2] / "shared/data/rmonitor"
DEFAULT = CAPTURES / "road-america-2025-04-25-full-day.log"
# The baseline process: read, decode, split lines, csv-split every record line.
CSV_SPLIT = """
import csv, sys
lines = open(sys.argv[1], "rb").read().decode("utf-8-sig").splitlines()
print(sum(1 for row in csv.reader(lines) if row and row[0][:1] == "$"))
"""


def baseline(data: bytes) -> int:
    """Decode, split lines, csv-split every record line; returns the records seen."""
    lines = data.decode("utf-8-sig").splitlines()
    count = 0
    for row in csv.reader(lines):
        if row and row[0][:1] == "$":
            count += 1
    return count


def trackside(data: bytes) -> int:
    """What ``trackside replay`` does with a file, from bytes already read (an RMonitor file
    into the scorer, typed blocks aside: there are none in the captures)."""
    scorer = Scorer()
    reader = LineReader(read_header, on_block=lambda block: None)
    reader.feed(decode_lines(data), scorer.apply_rmonitor)
    reader.flush(scorer.apply_rmonitor)
    engine_result(scorer)
    return scorer.engine.records


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


def build_stream(folder: Path, records: int) -> tuple[Path, int]:
    """Every capture's record lines, one raw stream, repeated to at least ``records`` lines."""
    lines: list[bytes] = []
    for path in sorted(CAPTURES.glob("*.log")):
        data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
        lines += [line for line in data.replace(b"\r", b"\n").split(b"\n") if line[:1] == b"$"]
    copies = -(-records // len(lines))
    stream = folder / "stream.log"
    stream.write_bytes(b"\r\n".join(lines * copies) + b"\r\n")
    return stream, len(lines) * copies


def run_process(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the child) of one command, output to a pipe."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def whole_process(records: int, repeat: int) -> dict:
    """``trackside replay`` as a user runs it against a fresh csv-splitting interpreter."""
    with tempfile.TemporaryDirectory() as folder:
        stream, count = build_stream(Path(folder), records)
        commands = {
            "baseline": [sys.executable, "-c", CSV_SPLIT, str(stream)],
            "trackside": [
                sys.executable, "-m", "trackside.cli", "replay", str(stream),
                "--output", str(Path(folder) / "results.json"),
            ],
        }  # fmt: skip
        best: dict[str, tuple[float, float]] = {}
        for _ in range(repeat):
            for name, command in commands.items():
                wall, cpu = run_process(command)
                old = best.get(name, (wall, cpu))
                best[name] = (min(wall, old[0]), min(cpu, old[1]))
        size = stream.stat().st_size
    figures = {
        name: {"seconds": round(wall, 3), "cpu_seconds": round(cpu, 3)}
        for name, (wall, cpu) in best.items()
    }
    return {
        "records": count,
        "bytes": size,
        **figures,
        "ratio": round(best["baseline"][0] / best["trackside"][0], 3),
        "ratio_cpu": round(best["baseline"][1] / best["trackside"][1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("capture", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--stream-records", type=int, default=300_000)
    parser.add_argument("--process-repeat", type=int, default=3)
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
        "whole_process": whole_process(args.stream_records, args.process_repeat),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
