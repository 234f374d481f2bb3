"""The simulated field: classes with their pace, and the entries with their own pace and grid."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClassSpec:
    """A class, how many cars it has, and its typical green-flag lap time."""

    class_id: int
    name: str
    base_lap_ms: int
    cars: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One car: who it is (as ``$A``/``$COMP`` say) and how fast it is (``pace`` x class lap)."""

    registration: str
    number: str
    transponder: int
    team: str
    drivers: str
    car_model: str
    class_id: int
    lap_ms: int  # this car's typical green-flag lap


DEFAULT_CLASSES = (
    ClassSpec(1, "GTO", 148_000, 8),
    ClassSpec(2, "GTU", 156_000, 9),
    ClassSpec(3, "GP1", 166_000, 7),
)

_TEAM_WORDS = (
    ("Apex", "Redline", "Kingpin", "Blue Flag", "Northside", "Turn Five", "Canyon", "Lakeshore"),
    ("Racing", "Motorsport", "Speed Works", "Autosport", "Competition", "Performance"),
)
_FIRST = ("Ann", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena")
_LAST = ("Novak", "Okafor", "Park", "Quinn", "Rossi", "Silva", "Tanaka", "Ueda", "Vance", "Weber")
_MODELS = ("BMW M3", "Porsche Cayman", "Mazda MX-5", "Honda Civic", "Ford Mustang", "Audi TT")


def make_field(classes: tuple[ClassSpec, ...], rng: random.Random, spread: float) -> list[Entry]:
    """Entries for every class; each car's pace is its class's lap times a spread around 1."""
    count = sum(spec.cars for spec in classes)
    numbers = rng.sample(range(2, 300), count)
    entries: list[Entry] = []
    for spec in classes:
        for _ in range(spec.cars):
            number = str(numbers[len(entries)])
            if rng.random() < 0.08:
                number += "X"  # letters in numbers occur, and the registration keeps them
            pace = 1.0 + abs(rng.gauss(0.0, spread))
            drivers = " / ".join(f"{rng.choice(_FIRST)} {rng.choice(_LAST)}" for _ in range(2))
            entries.append(
                Entry(
                    registration=number,
                    number=number,
                    transponder=rng.randrange(1_000_000, 16_000_000),
                    team=f"{rng.choice(_TEAM_WORDS[0])} {rng.choice(_TEAM_WORDS[1])}",
                    drivers=drivers,
                    car_model=rng.choice(_MODELS),
                    class_id=spec.class_id,
                    lap_ms=round(spec.base_lap_ms * pace),
                )
            )
    return entries


def grid_order(entries: list[Entry], rng: random.Random) -> list[Entry]:
    """Qualifying order: by pace with a little luck, so the fast classes start in front."""
    return sorted(entries, key=lambda e: e.lap_ms * (1.0 + rng.gauss(0.0, 0.004)))
