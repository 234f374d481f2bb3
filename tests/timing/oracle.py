"""An independent, deliberately plain reading of RMonitor captures, to check the engine against.

It keeps, per run, the last ``$G`` and ``$H`` each car was sent since the last scoreboard
reset, and each car's last ``$J``. After ``$B,95`` records update the closed run until an ``$I``;
records with no run wait for the next ``$B``. It shares no code with trackside's parser or
engine.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path


def _ms(text: str) -> int | None:
    text = text.strip()
    if text in ("", "00:00:00.000", "00:59:59.999"):
        return None
    hours, minutes, seconds = text.split(":")
    whole, _, frac = seconds.partition(".")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(whole)) * 1000 + int((frac + "000")[:3])


@dataclass
class RunSeen:
    run: int | None
    name: str = ""
    race: dict[str, tuple[int, int, int | None, int]] = field(default_factory=dict)
    practice: dict[str, tuple[int, int | None, int | None, int]] = field(default_factory=dict)
    last_passing: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)


def read_runs(*paths: Path) -> list[RunSeen]:
    runs: list[RunSeen] = []
    current: RunSeen | None = None
    closed: RunSeen | None = None
    reset_pending = False
    index = 0
    for path in paths:
        text = path.read_bytes().decode("utf-8-sig")
        lines = [line for line in text.replace("\r", "\n").split("\n") if line.startswith("$")]
        for row in csv.reader(lines, skipinitialspace=True):
            index += 1
            kind = row[0]
            if kind == "$I":
                reset_pending = True
                closed = None
                continue
            if kind == "$B":
                number = int(row[1])
                if number == 95:
                    closed = current if current is not None and current.run else closed
                    current = None
                elif current is None or (current.run not in (None, number)):
                    current = RunSeen(number, row[2])
                    runs.append(current)
                    reset_pending = False
                elif current.run is None:
                    current.run, current.name = number, row[2]
                    runs.append(current)
                elif reset_pending:
                    current.race.clear()
                    current.practice.clear()
                    reset_pending = False
                continue
            if kind not in ("$G", "$H", "$J", "$A", "$COMP", "$C") or not row[1].strip():
                continue
            if current is None and closed is not None:
                target = closed
            else:
                if current is None:
                    current = RunSeen(None)  # listed once a $B names it
                target = current
            if reset_pending:
                # A refresh after the reset rebuilds the board; passings straight after it
                # mean no refresh comes and the board stands.
                if kind in ("$A", "$COMP", "$C"):
                    target.race.clear()
                    target.practice.clear()
                reset_pending = False
            if kind == "$G":
                laps = int(row[3]) if row[3].strip() else 0
                target.race[row[2]] = (int(row[1]), laps, _ms(row[4]), index)
            elif kind == "$H":
                lap = int(row[3]) if row[3].strip() else 0
                best = _ms(row[4])
                target.practice[row[2]] = (int(row[1]), lap or None, best, index)
            elif kind == "$J":
                target.last_passing[row[1]] = (_ms(row[2]), _ms(row[3]))
    return runs


def race_order(run: RunSeen) -> list[str]:
    return [reg for reg, _ in sorted(run.race.items(), key=lambda kv: (kv[1][0], -kv[1][3]))]


def practice_order(run: RunSeen) -> list[str]:
    """By ``$H`` position, cars without a best lap time after every car with one."""

    def key(item: tuple[str, tuple[int, int | None, int | None, int]]) -> tuple:
        position, _, best, index = item[1]
        return (best is None, position, -index)

    return [reg for reg, _ in sorted(run.practice.items(), key=key)]
