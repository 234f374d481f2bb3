"""Session charts as SVG: lap times by lap, and position by lap, one line per car.

Drawn on the server from the session's own laps, so a page shows them with a plain ``<img>``:
no script, no CDN, nothing to build. Pure functions of a ``Session``.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from trackside.feeds.clock import format_duration
from trackside.timing.car import Car
from trackside.timing.laps import Lap
from trackside.timing.session import Session
from trackside.timing.standings import classify

WIDTH, HEIGHT = 900, 420
LEFT, RIGHT, TOP, BOTTOM = 78, 70, 30, 40
PALETTE = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
    "#fabed4", "#469990", "#9a6324", "#800000", "#aaffc3", "#808000", "#000075", "#a9a9a9",
)  # fmt: skip
DEFAULT_CARS = 10


def _chosen(session: Session, numbers: list[str] | None, limit: int) -> list[Car]:
    rows = classify(session)
    if numbers:
        wanted = set(numbers)
        return [r.car for r in rows if r.car.number in wanted or r.car.registration in wanted]
    return [r.car for r in rows if r.car.laps][:limit]


def _frame(title: str, y_label: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}" '
        'font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        f'<text x="{LEFT}" y="18" font-weight="bold">{escape(title)}</text>',
        f'<text x="14" y="{TOP + (HEIGHT - TOP - BOTTOM) / 2}" '
        f'transform="rotate(-90 14 {TOP + (HEIGHT - TOP - BOTTOM) / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text>',
    ]


def _axes(parts: list[str], max_lap: int, y_ticks: list[tuple[float, str]]) -> None:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>'
    )
    step = max(1, max_lap // 10)
    for lap in range(step, max_lap + 1, step):
        x = LEFT + plot_w * (lap - 1) / max(1, max_lap - 1)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{lap}</text>'
        )
    parts.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 6}" text-anchor="middle">lap</text>')
    for y, label in y_ticks:
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
        )
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')


def _line(parts: list[str], car: Car, index: int, points: list[tuple[float, float]]) -> None:
    if not points:
        return
    color = PALETTE[index % len(PALETTE)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    label = escape(car.number or car.registration)
    parts.append(
        f'<polyline data-car="{label}" points="{path}" fill="none" '
        f'stroke="{color}" stroke-width="2"/>'
    )
    x, y = points[-1]
    parts.append(f'<text x="{x + 4:.1f}" y="{y + 4:.1f}" fill="{color}">#{label}</text>')


Scale = tuple[Callable[[int], float], list[tuple[int, str]]]  # value -> 0..1 down, ticks


def _chart(
    session: Session,
    numbers: list[str] | None,
    limit: int,
    title: str,
    y_label: str,
    value_of: Callable[[Lap], int | None],
    scale: Callable[[list[int]], Scale],
) -> str:
    """One line per car of ``value_of(lap)`` against the lap number, on the given scale."""
    cars = _chosen(session, numbers, limit)
    parts = _frame(f"{title} — {session.name}", y_label)
    plotted = [
        [(lap.number, value) for lap in car.laps if (value := value_of(lap)) is not None]
        for car in cars
    ]
    values = [value for points in plotted for _, value in points]
    if not values:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no laps yet</text>'
        )
        return "\n".join([*parts, "</svg>"])
    max_lap = max(number for points in plotted for number, _ in points)
    to_y, ticks = scale(values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def xy(number: int, value: int) -> tuple[float, float]:
        return LEFT + plot_w * (number - 1) / max(1, max_lap - 1), TOP + plot_h * to_y(value)

    _axes(parts, max_lap, [(xy(1, value)[1], label) for value, label in ticks])
    for index, (car, points) in enumerate(zip(cars, plotted, strict=True)):
        _line(parts, car, index, [xy(number, value) for number, value in points])
    return "\n".join([*parts, "</svg>"])


def _lap_time_scale(times: list[int]) -> Scale:
    times = sorted(times)
    low = times[0]
    # Cap the scale a quarter above the median lap, so pit and yellow laps (drawn at the
    # bottom edge) don't flatten the racing laps.
    high = max(low + 1000, min(times[-1], times[len(times) // 2] * 5 // 4))
    ticks = [low + (high - low) * i // 4 for i in range(5)]
    return (
        lambda ms: (min(ms, high) - low) / (high - low),
        [(ms, format_duration(ms)) for ms in ticks],
    )


def _position_scale(positions: list[int]) -> Scale:
    worst = max(positions)
    step = max(1, worst // 8)
    ticks = [1, *range(1 + step, worst + 1, step)]
    return (lambda p: (p - 1) / max(1, worst - 1), [(p, str(p)) for p in ticks])


def lap_time_chart(session: Session, numbers: list[str] | None = None, limit: int = 10) -> str:
    """Lap time against lap number for the leading cars (or the cars asked for)."""
    return _chart(
        session,
        numbers,
        limit,
        "Lap times",
        "lap time",
        lambda lap: lap.lap_time_ms if lap.lap_time_ms > 0 else None,
        _lap_time_scale,
    )


def position_chart(session: Session, numbers: list[str] | None = None, limit: int = 10) -> str:
    """Overall position at the end of each lap, as the timing system gave it."""
    return _chart(
        session, numbers, limit, "Positions", "position", lambda lap: lap.position, _position_scale
    )
