"""Import a synced iRacing session into an event: its result and lap data become records of
type ``iracing`` in the event's log (``feeds.iracing``), scored by the event's processor like a
timed race, so the board, charts, results and the hub show it.

``plan`` (pure) turns ``results/get`` and each car's ``results/lap_data`` rows into records: the
session with its cars, classes and grid; every line crossing in session-time order with the
running order it makes; the official classification at the end. The log source is
``iracing-{subsession}`` with seqs from 1, so importing the same session again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trackside.events import ingest
from trackside.events.ingest import EventLocks, IncomingRecord
from trackside.events.manager import ProcessorManager
from trackside.feeds import iracing as codec
from trackside.iracing import convert
from trackside.iracing import sync as syncing
from trackside.iracing.connections import IRacing
from trackside.timing.session import guess_session_type

NO_RUN = 95


@dataclass(frozen=True, slots=True)
class CarPlan:
    key: dict[str, int]  # {"cust_id": …} or {"team_id": …}: how lap_data names it
    registration: str
    row: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Imported:
    subsession_id: int
    records: int  # stored now (0 when the session was imported before)
    laps: int
    drivers: int


def cars_of(doc: dict[str, Any]) -> list[CarPlan]:
    """The cars of the main simsession: a team row is one car; registrations are the car
    numbers when they are unique, else the member or team ids."""
    simsession = convert.main_simsession(doc) or {}
    rows = [r for r in simsession.get("results") or () if isinstance(r, dict)]
    numbers = [convert._car_number(r) for r in rows]
    unique = len(set(numbers)) == len(numbers) and None not in numbers
    out = []
    for row, number in zip(rows, numbers, strict=True):
        team = convert._int(row.get("team_id"))
        cust = convert._int(row.get("cust_id"))
        key = {"team_id": team} if team is not None and not cust else {"cust_id": cust or 0}
        registration = number if unique and number else str(team if "team_id" in key else cust)
        out.append(CarPlan(key, registration, row))
    return out


def _names(display: str | None) -> tuple[str, str]:
    first, _, last = (display or "").strip().partition(" ")
    return first, last


def _title(kind: str, summary: convert.SessionSummary) -> str:
    """A session name the board reads as the right type."""
    label = f"iRacing {kind} {summary.subsession_id}"
    for name in (summary.session_name, summary.league_name, summary.series_name):
        if name and guess_session_type(f"{label} · {name}") == kind:
            return f"{label} · {name}"
    return label


def plan(
    doc: dict[str, Any], laps: dict[str, list[dict[str, Any]]], start_ms: int
) -> list[tuple[int, str]]:
    """``(received_at_ms, data)`` of each record, in order."""
    summary = convert.summary(doc)
    kind = summary.session_type
    order = codec.RACE_ORDER if kind == convert.RACE else codec.PRACTICE_ORDER
    cars = cars_of(doc)
    classes = convert._classes(doc)
    records: list[tuple[int, str]] = []
    session_cars = []
    for car in cars:
        first, last = _names(convert._text(car.row.get("display_name")))
        session_cars.append(
            {
                "car": car.registration,
                "number": convert._car_number(car.row) or car.registration,
                "first": first,
                "last": last,
                "class": convert._int(car.row.get("car_class_id")),
                "grid": convert.position(car.row.get("starting_position"))
                if kind == convert.RACE
                else None,
            }
        )
    run = summary.subsession_id % 1_000_000 or 1
    records.append(
        (
            start_ms,
            codec.encode(
                {
                    "kind": codec.SESSION,
                    "run": run + 1 if run == NO_RUN else run,
                    "name": _title(kind, summary),
                    "track": summary.track_name,
                    "classes": [[cid, name] for cid, name in sorted(classes.items())],
                    "cars": session_cars,
                }
            ),
        )
    )
    crossings = []
    for car in cars:
        previous: int | None = None
        for row in sorted(
            (r for r in laps.get(car.registration, ()) if isinstance(r, dict)),
            key=lambda r: convert._int(r.get("lap_number")) or 0,
        ):
            total = convert.millis(row.get("session_time"))
            number = convert._int(row.get("lap_number"))
            if total is None or number is None or number < 0:
                continue
            lap_ms = convert.millis(row.get("lap_time"))
            if lap_ms is None and number > 0 and previous is not None:
                lap_ms = total - previous
            previous = total
            crossings.append((total, car.registration, number, lap_ms))
    crossings.sort()
    laps_done: dict[str, tuple[int, int]] = {}  # car -> (laps, total at the last)
    best: dict[str, tuple[int, int]] = {}  # car -> (best ms, lap)
    for total, registration, number, lap_ms in crossings:
        record: dict[str, Any] = {
            "kind": codec.LAP,
            "car": registration,
            "lap": number,
            "lap_ms": lap_ms,
            "total_ms": total,
            "order": order,
        }
        if order == codec.RACE_ORDER:
            laps_done[registration] = (number, total)
            ranking = sorted(laps_done, key=lambda c: (-laps_done[c][0], laps_done[c][1]))
            record["position"] = ranking.index(registration) + 1
        elif number > 0 and lap_ms:
            if registration not in best or lap_ms < best[registration][0]:
                best[registration] = (lap_ms, number)
            ranking = sorted(best, key=lambda c: best[c])
            record["position"] = ranking.index(registration) + 1
            record["best_ms"], record["best_lap"] = best[registration]
        records.append((start_ms + total, codec.encode(record)))
    last_total = crossings[-1][0] if crossings else 0
    last_of = {reg: total for total, reg, _, _ in crossings}
    finish = []
    for car in cars:
        place = convert.position(car.row.get("finish_position"))
        if place is None:
            continue
        finish.append(
            {
                "car": car.registration,
                "position": place,
                "laps": convert.count(car.row.get("laps_complete")),
                "total_ms": last_of.get(car.registration),
                "best_lap": convert._int(car.row.get("best_lap_num")),
                "best_ms": convert.millis(car.row.get("best_lap_time")),
            }
        )
    finish.sort(key=lambda c: c["position"])
    records.append(
        (
            start_ms + last_total + 1,
            codec.encode(
                {"kind": codec.FINISH_KIND, "order": order, "total_ms": last_total, "cars": finish}
            ),
        )
    )
    return records


async def import_session(
    iracing: IRacing,
    db: AsyncSession,
    locks: EventLocks,
    processors: ProcessorManager,
    user_id: int,
    session_id: int,
    event_id: int,
) -> Imported:
    """Read the session's result and laps as the member, append them to the event's log."""
    iracing.require()
    row = await syncing.session_of(db, user_id, session_id)
    subsession = row.subsession_id
    start = row.start_time
    await db.commit()
    api = iracing.data_api()
    async with iracing.lock(user_id):
        doc = await iracing.fetch(db, user_id, api, "results/get", subsession_id=subsession)
        if not isinstance(doc, dict):
            raise ValueError("iRacing's result is not a JSON object")
        simsession = convert.main_simsession(doc) or {}
        number = convert._int(simsession.get("simsession_number")) or 0
        laps: dict[str, list[dict[str, Any]]] = {}
        for car in cars_of(doc):
            data = await iracing.fetch(
                db,
                user_id,
                api,
                "results/lap_data",
                subsession_id=subsession,
                simsession_number=number,
                **car.key,
            )
            laps[car.registration] = data.get("rows", []) if isinstance(data, dict) else []
    start_ms = int(start.timestamp() * 1000) if start is not None else 0
    planned = plan(doc, laps, start_ms)
    source = f"iracing-{subsession}"
    ack = await ingest.append(
        db,
        locks,
        event_id,
        source,
        [
            IncomingRecord(seq, received, codec.RECORD_TYPE, data)
            for seq, (received, data) in enumerate(planned, start=1)
        ],
    )
    if ack.placed:
        # Scored now (the processor starts if need be), so the session and its results are
        # kept at once, not when someone next watches the event.
        await processors.get(event_id)
        await processors.records_placed(event_id)
    return Imported(
        subsession_id=subsession,
        records=ack.stored,
        laps=sum(
            1
            for rows in laps.values()
            for r in rows
            if isinstance(r, dict) and (convert._int(r.get("lap_number")) or 0) > 0
        ),
        drivers=len(cars_of(doc)),
    )
