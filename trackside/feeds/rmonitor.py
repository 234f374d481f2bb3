"""RMonitor line parser: text lines in, typed records out, never an exception.

Follows ../shared/reference/rmonitor-protocol.md: quote-aware fields (team names hold commas),
blank/short/upper-case flags, sentinel times, durations past 24 h, empty laps, alphanumeric or
empty transponders, glued and truncated lines. A line that cannot be read becomes a
``FeedError`` carrying the raw text and the reason; unknown but well-formed commands become
``UnknownRecord``. Both are kept so nothing is lost.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator

from trackside.feeds.clock import (
    HOURS_MINUTES_MS,
    MILLIS_MS,
    NO_TIME_SENTINELS,
    SECONDS_MS,
    ClockFormatError,
    parse_duration_ms,
    parse_result_time_ms,
)
from trackside.feeds.records import (
    FINISH,
    GREEN,
    NO_FLAG,
    RED,
    WHITE,
    YELLOW,
    Competitor,
    Correction,
    FeedError,
    Heartbeat,
    Init,
    LapInfo,
    LineCrossing,
    Passing,
    PracticeOrder,
    RaceClass,
    RaceOrder,
    RelayInfo,
    RMonitorRecord,
    Run,
    Setting,
    TrackDescription,
    TrackSection,
    UnknownRecord,
)

RMONITOR = "rmonitor"

KNOWN_COMMANDS = [
    "COMP",
    "COR",
    "RMS",
    "RMLT",
    "RMDTL",
    "RMCA",
    "RMHL",
    "RMRDQ",
    "SR",
    "SP",
    "A",
    "B",
    "C",
    "E",
    "F",
    "G",
    "H",
    "I",
    "J",
    "L",
    "T",
]
# A record glued onto the end of another: ``$`` + a known command + ``,`` or end of line.
_GLUED = re.compile(r"\$(?:" + "|".join(KNOWN_COMMANDS) + r")(?=,|$)")

UNLIMITED_LAPS = 9999
MAX_RECORD_CHARS = 65_536

_FLAG_WORDS = {
    "green": GREEN,
    "yellow": YELLOW,
    "red": RED,
    "white": WHITE,
    "finish": FINISH,
    "": NO_FLAG,
    "none": NO_FLAG,
}
_flag_cache: dict[str, str] = {}


class RecordError(ValueError):
    """Why a line is not a valid record; becomes the reason of a FeedError."""


def normalize_flag(raw: str) -> str:
    """Map any flag spelling the feeds use (``"Green "``, ``"GREEN "``, ``"RED "``, blank)."""
    flag = _flag_cache.get(raw)
    if flag is None:
        word = raw.strip().casefold()
        flag = _FLAG_WORDS.get(word)
        if flag is None:
            # Kart boxes truncate ("GRE") and some systems say "checkered"; match on prefix.
            if word.startswith(("check", "chequ", "fin")):
                flag = FINISH
            else:
                flag = next((f for w, f in _FLAG_WORDS.items() if w and w.startswith(word)), None)
            if flag is None:
                raise RecordError(f"unknown flag {raw!r}")
        if len(_flag_cache) < 256:
            _flag_cache[raw] = flag
    return flag


# Numbers and times travel on as JSON (results, live payloads): larger is no real value.
MAX_MAGNITUDE = 2**53 - 1


def _bounded(number: int, field: str, value: str) -> int:
    if -MAX_MAGNITUDE <= number <= MAX_MAGNITUDE:
        return number
    raise RecordError(f"{field}: out of range: {value!r}")


def _int(value: str, field: str) -> int:
    try:
        return _bounded(int(value), field, value)
    except ValueError as exc:
        if isinstance(exc, RecordError):
            raise
        raise RecordError(f"{field}: not an integer: {value!r}") from None


def _opt_int(value: str, field: str) -> int | None:
    try:
        return int(value)  # int() allows the blanks around it that feeds send
    except ValueError:
        if not value.strip():
            return None
        raise RecordError(f"{field}: not an integer: {value!r}") from None


def _duration(value: str, field: str) -> int:
    try:
        return _bounded(parse_duration_ms(value), field, value)
    except ClockFormatError as exc:
        raise RecordError(f"{field}: {exc}") from None


def _result_time(value: str, field: str) -> int | None:
    # Nearly every $G/$H/$J time is HH:MM:SS.fff: read it here without the general reader.
    if len(value) == 12 and value[5] == ":" and value[8] == "." and value not in NO_TIME_SENTINELS:
        try:
            return HOURS_MINUTES_MS[value[:5]] + SECONDS_MS[value[6:8]] + MILLIS_MS[value[9:]]
        except KeyError:
            pass
    try:
        ms = parse_result_time_ms(value)
        return None if ms is None else _bounded(ms, field, value)
    except ClockFormatError as exc:
        raise RecordError(f"{field}: {exc}") from None


def _need(fields: list[str], count: int, name: str) -> None:
    if len(fields) < count:
        raise RecordError(f"{name} needs {count - 1} fields, got {len(fields) - 1}")


def _heartbeat(f: list[str]) -> Heartbeat:
    if len(f) < 6:
        raise RecordError(f"$F needs 5 fields, got {len(f) - 1}")
    laps_raw, to_go, of_day, race_raw = f[1], f[2], f[3], f[4]
    if laps_raw == "9999":
        laps = None
    else:
        try:
            laps = int(laps_raw)
        except ValueError:
            raise RecordError(f"laps to go: not an integer: {laps_raw!r}") from None
        if not -MAX_MAGNITUDE <= laps <= MAX_MAGNITUDE:
            raise RecordError(f"laps to go: out of range: {laps_raw!r}")
        laps = None if laps == UNLIMITED_LAPS else laps
    flag = _flag_cache.get(f[5]) or normalize_flag(f[5])
    # This is the hottest line of a replay (one heartbeat a second, all day): most clocks are
    # zero (no time limit; no session running) and the rest HH:MM:SS, read by table lookup.
    # Anything unusual takes the full reader below.
    try:
        if to_go == _ZERO_CLOCK:
            time_to_go = 0
        elif len(to_go) == 8 and to_go[5] == ":":
            time_to_go = HOURS_MINUTES_MS[to_go[:5]] + SECONDS_MS[to_go[6:]]
        else:
            raise KeyError(to_go)
        if len(of_day) == 8 and of_day[5] == ":":
            time_of_day = HOURS_MINUTES_MS[of_day[:5]] + SECONDS_MS[of_day[6:]]
        else:
            raise KeyError(of_day)
        if race_raw == _ZERO_CLOCK:
            race_time: int | None = 0
        elif len(race_raw) == 8 and race_raw[5] == ":" and race_raw != _SENTINEL_CLOCK:
            race_time = HOURS_MINUTES_MS[race_raw[:5]] + SECONDS_MS[race_raw[6:]]
        else:
            raise KeyError(race_raw)
    except KeyError:
        time_to_go = _duration(to_go, "time to go")
        time_of_day = _duration(of_day, "time of day")
        race_time = _duration(race_raw, "race time")
        # The 2009 Orbits pre-green sentinel; a real 59:59 race time has a flag showing.
        if race_raw == _SENTINEL_CLOCK and flag == NO_FLAG:
            race_time = None
    # Positional arguments: measurably cheaper on this path.
    return Heartbeat(laps, time_to_go, time_of_day, race_time, flag)


_ZERO_CLOCK = "00:00:00"
_SENTINEL_CLOCK = "00:59:59"


def _competitor_a(f: list[str]) -> Competitor:
    _need(f, 8, "$A")
    transponder = f[3].strip()
    return Competitor(
        registration=f[1],
        number=f[2],
        transponder=transponder or None,
        first_name=f[4],
        last_name=f[5],
        nationality=f[6],
        class_id=_opt_int(f[7], "class"),
        additional=None,
        layout="A",
    )


def _competitor_comp(f: list[str]) -> Competitor:
    _need(f, 7, "$COMP")
    return Competitor(
        registration=f[1],
        number=f[2],
        transponder=None,
        first_name=f[4],
        last_name=f[5],
        nationality=f[6],
        class_id=_opt_int(f[3], "class"),
        additional=f[7] if len(f) > 7 else "",
        layout="COMP",
    )


def _run(f: list[str]) -> Run:
    _need(f, 3, "$B")
    return Run(number=_int(f[1], "run number"), description=f[2])


def _race_class(f: list[str]) -> RaceClass:
    _need(f, 3, "$C")
    return RaceClass(class_id=_int(f[1], "class number"), description=f[2])


def _setting(f: list[str]) -> Setting:
    _need(f, 3, "$E")
    return Setting(name=f[1].strip().upper(), value=f[2])


# Positional arguments below: $G, $H and $J are most of what is not a heartbeat.


def _race_order(f: list[str]) -> RaceOrder:
    _need(f, 5, "$G")
    return RaceOrder(
        _int(f[1], "position"), f[2], _opt_int(f[3], "laps"), _result_time(f[4], "total time")
    )


def _practice_order(f: list[str]) -> PracticeOrder:
    _need(f, 5, "$H")
    best_lap = _opt_int(f[3], "best lap")
    best_time = _result_time(f[4], "best lap time")
    return PracticeOrder(
        _int(f[1], "position"),
        f[2],
        best_lap if best_lap and best_time is not None else None,
        best_time,
    )


def _init(f: list[str]) -> Init:
    tod_raw = f[1].strip() if len(f) > 1 else ""
    tod = None if tod_raw in NO_TIME_SENTINELS else _duration(tod_raw, "time of day")
    return Init(time_of_day_ms=tod, date=f[2].strip() if len(f) > 2 else "")


def _passing(f: list[str]) -> Passing:
    _need(f, 4, "$J")
    return Passing(f[1], _result_time(f[2], "lap time"), _result_time(f[3], "total time"))


def _correction(f: list[str]) -> Correction:
    _need(f, 6, "$COR")
    return Correction(
        registration=f[1],
        number=f[2],
        laps=_opt_int(f[3], "laps"),
        corrected_total_ms=_result_time(f[4], "corrected total time"),
        correction_ms=_duration(f[5], "correction"),
    )


def _line_crossing(f: list[str]) -> LineCrossing:
    _need(f, 6, "$L")
    return LineCrossing(
        car=f[1],
        line_id=f[2],
        line_name=f[3],
        date=f[4],
        time_of_day_ms=_duration(f[5], "time"),
        driver_id=_opt_int(f[6], "driver id") if len(f) > 6 else None,
        class_name=f[7] if len(f) > 7 else None,
    )


def _track(f: list[str]) -> TrackDescription:
    _need(f, 5, "$T")
    count = _int(f[4], "section count")
    if count < 0 or len(f) < 5 + 4 * count:
        raise RecordError(f"$T announces {count} sections but carries {(len(f) - 5) // 4}")
    sections = tuple(
        TrackSection(f[i], f[i + 1], f[i + 2], _int(f[i + 3], "section length"))
        for i in range(5, 5 + 4 * count, 4)
    )
    return TrackDescription(name=f[1], short_name=f[2], distance=f[3], sections=sections)


def _lap_info(order: str) -> Callable[[list[str]], LapInfo]:
    def parse(f: list[str]) -> LapInfo:
        _need(f, 5, "$SR" if order == "race" else "$SP")
        return LapInfo(
            order=order,
            position=_int(f[1], "position"),
            registration=f[2],
            lap=_opt_int(f[3], "lap"),
            lap_time_ms=_result_time(f[4], "lap time"),
            speed=_opt_int(f[5], "speed") if len(f) > 5 else None,
        )

    return parse


def _relay(f: list[str]) -> RelayInfo:
    return RelayInfo(command=f[0][1:], fields=tuple(f[1:]))


_PARSERS: dict[str, Callable[[list[str]], RMonitorRecord]] = {
    "$F": _heartbeat,
    "$A": _competitor_a,
    "$COMP": _competitor_comp,
    "$B": _run,
    "$C": _race_class,
    "$E": _setting,
    "$G": _race_order,
    "$H": _practice_order,
    "$I": _init,
    "$J": _passing,
    "$COR": _correction,
    "$L": _line_crossing,
    "$T": _track,
    "$SR": _lap_info("race"),
    "$SP": _lap_info("practice"),
    **{f"${c}": _relay for c in ("RMS", "RMLT", "RMDTL", "RMCA", "RMHL", "RMRDQ")},
}


def split_glued(line: str) -> list[tuple[str, bool]]:
    """Split a line holding several records run together; flag the fragments cut short.

    A ``$CMD`` is a record start unless it sits inside a string that is closed later in the
    line (a team name may contain ``$A,``). Returns ``(fragment, was_cut)`` pairs.
    """
    starts = [0]
    for match in _GLUED.finditer(line, 1):
        at = match.start()
        before = line.count('"', starts[-1], at)
        after = line.count('"', at)
        if before % 2 == 0 or after % 2 == 0:
            starts.append(at)
    if len(starts) == 1:
        return [(line, False)]
    ends = [*starts[1:], len(line)]
    return [(line[s:e], e != len(line)) for s, e in zip(starts, ends, strict=True)]


def _fields_of(text: str) -> list[str]:
    return next(csv.reader((text,), skipinitialspace=True))


def parse_line(line: str) -> RMonitorRecord:
    """Parse one already-split record line; never raises."""
    text = line.strip("\r\n\ufeff ")
    if not text.startswith("$"):
        return FeedError(raw=line, reason="not an RMonitor record (no leading $)")
    if text.count('"') % 2:
        return FeedError(raw=line, reason="unbalanced quotes: truncated record")
    if "\x00" in text:
        return FeedError(raw=line, reason="NUL byte inside a record")
    try:
        fields = _fields_of(text)
    except csv.Error as exc:
        return FeedError(raw=line, reason=f"unreadable fields: {exc}")
    return _record_from_fields(fields, line)


def _record_from_fields(fields: list[str], raw: str) -> RMonitorRecord:
    command = fields[0].strip().upper()
    parser = _PARSERS.get(command)
    if parser is None:
        name = command[1:]
        if name.isalnum() and name.isascii():
            return UnknownRecord(command=name, raw=raw)
        return FeedError(raw=raw, reason=f"not an RMonitor command: {fields[0]!r}")
    try:
        return parser(fields)
    except ValueError as exc:  # RecordError, or a clock value no field check caught
        return FeedError(raw=raw, reason=str(exc))


def parse_lines(lines: Iterable[str]) -> Iterator[RMonitorRecord]:
    """Parse a stream of lines into records, one or more per line; never raises."""
    from trackside.feeds.line_reader import parse_stream  # it builds on this module

    for _, record in parse_stream(list(lines)):
        yield record  # type: ignore[misc]


def decode_line(data: bytes) -> str:
    """Bytes of one line as text: strict UTF-8, else Windows-1252, else Latin-1; never fails."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")
