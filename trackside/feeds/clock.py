"""Clock strings of the timing wire formats, read into integer milliseconds.

RMonitor durations have unbounded hours (24 h races run past ``24:00:00``), may carry a sign
(``$COR``, pre-start ``$F``) and one to three decimals. Nothing here reads the system clock.
"""

from __future__ import annotations

# Values the timing systems send to mean "no time": 2009 Orbits and newer feeds.
NO_TIME_SENTINELS = frozenset({"00:59:59.999", "00:00:00.000", "00:00:00", ""})


class ClockFormatError(ValueError):
    """A clock string that is not ``[+-]H+:MM:SS[.f+]``."""


# Lookup tables for the fixed-width fast path: "HH:MM" (hours 0-99), "SS", "fff".
HOURS_MINUTES_MS = {
    f"{h:02d}:{m:02d}": (h * 60 + m) * 60_000 for h in range(100) for m in range(60)
}
SECONDS_MS = {f"{s:02d}": s * 1000 for s in range(60)}
MILLIS_MS = {f"{f:03d}": f for f in range(1000)}


def parse_duration_ms(text: str) -> int:
    """Read ``[+-]H+:MM:SS[.fff]`` (hours unbounded) into milliseconds.

    Raises ClockFormatError on anything else, so callers can keep the line as an error record.
    The fixed-width shapes ``HH:MM:SS.fff`` and ``HH:MM:SS`` (nearly every value on the wire)
    are read by table lookups; everything else by the general reader.
    """
    try:
        n = len(text)
        if n == 12:
            if text[5] == ":" and text[8] == ".":
                return HOURS_MINUTES_MS[text[:5]] + SECONDS_MS[text[6:8]] + MILLIS_MS[text[9:]]
        elif n == 8 and text[5] == ":":
            return HOURS_MINUTES_MS[text[:5]] + SECONDS_MS[text[6:]]
    except KeyError:
        pass
    return _parse_general(text, text.strip())


def _parse_general(text: str, s: str) -> int:
    if not s:
        raise ClockFormatError(f"not a clock value: {text!r}")
    sign = 1
    if s[0] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    parts = s.split(":")
    # Orbits counts down to the start as "00:00:-47": a sign on a later component.
    if any(p[:1] == "-" for p in parts[1:]):
        sign = -1
        parts = [p[1:] if p[:1] == "-" else p for p in parts]
        s = ":".join(parts)
    if len(parts) not in (2, 3) or not s:
        raise ClockFormatError(f"not a clock value: {text!r}")
    sec_part = parts[-1]
    whole, _, frac = sec_part.partition(".")
    digits = [*parts[:-1], whole]
    if not all(p.isdigit() and p.isascii() for p in digits) or (
        frac and not (frac.isdigit() and frac.isascii())
    ):
        raise ClockFormatError(f"not a clock value: {text!r}")
    if len(parts) == 3:
        h, m = int(parts[0]), int(parts[1])
    else:
        h, m = 0, int(parts[0])
    sec = int(whole)
    if m > 59 or sec > 59:
        raise ClockFormatError(f"minutes or seconds out of range: {text!r}")
    # Round anything finer than a millisecond; pad shorter fractions (".5" is 500 ms).
    if len(frac) > 3:
        ms = round(int(frac) / 10 ** (len(frac) - 3))
    else:
        ms = int(frac) * 10 ** (3 - len(frac)) if frac else 0
    return sign * (((h * 60 + m) * 60 + sec) * 1000 + ms)


def parse_result_time_ms(text: str) -> int | None:
    """Read a result time (``$G``/``$H``/``$J`` total or lap); sentinels mean no time."""
    s = text.strip()
    if s in NO_TIME_SENTINELS:
        return None
    return parse_duration_ms(s)


def format_duration(ms: int | None) -> str:
    """A lap time or gap as timing screens show it: ``s.fff``, ``m:ss.fff``, ``h:mm:ss.fff``."""
    if ms is None:
        return ""
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, frac = divmod(rest, 1000)
    if h:
        return f"{sign}{h}:{m:02d}:{s:02d}.{frac:03d}"
    if m:
        return f"{sign}{m}:{s:02d}.{frac:03d}"
    return f"{sign}{s}.{frac:03d}"


def format_interval(ms: int | None, laps: int | None) -> str:
    """A gap or difference: ``"1 lap"``/``"N laps"`` when the cars are on different laps,
    else the time (empty when there is none, as for the leader)."""
    if laps:
        return "1 lap" if laps == 1 else f"{laps} laps"
    return format_duration(ms)


def format_clock(ms: int | None) -> str:
    """Show a clock the RMonitor way, ``HH:MM:SS`` with unbounded hours."""
    if ms is None:
        return ""
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    h, rest = divmod(ms // 1000, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h:02d}:{m:02d}:{s:02d}"
