"""Session charts as SVG: lap times by lap, and position by lap, one line per car.

Drawn on the server from the session's own laps, so a page shows them with a plain ``<img>``:
no script, no CDN, nothing to build. Pure functions of a ``Session``.
"""

from __future__ import annotations

from html import escape

from trackside.feeds.clock import format_duration
from trackside.timing.car import Car
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


def lap_time_chart(session: Session, numbers: list[str] | None = None, limit: int = 10) -> str:
    """Lap time against lap number for the leading cars (or the cars asked for)."""
    cars = _chosen(session, numbers, limit)
    laps = [lap for car in cars for lap in car.laps if lap.lap_time_ms > 0]
    parts = _frame(f"Lap times — {session.name}", "lap time")
    if not laps:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no laps yet</text>'
        )
        return "\n".join([*parts, "</svg>"])
    max_lap = max(lap.number for lap in laps)
    times = sorted(lap.lap_time_ms for lap in laps)
    low = times[0]
    # Cap the scale a quarter above the median lap, so pit and yellow laps (drawn at the
    # bottom edge) don't flatten the racing laps.
    median = times[len(times) // 2]
    high = max(low + 1000, min(times[-1], median * 5 // 4))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def xy(number: int, ms: int) -> tuple[float, float]:
        x = LEFT + plot_w * (number - 1) / max(1, max_lap - 1)
        y = TOP + plot_h * (min(ms, high) - low) / (high - low)
        return x, y

    ticks = [(xy(1, low + (high - low) * i // 4)[1], format_duration(low + (high - low) * i // 4))
             for i in range(5)]  # fmt: skip
    _axes(parts, max_lap, ticks)
    for index, car in enumerate(cars):
        _line(
            parts,
            car,
            index,
            [xy(lap.number, lap.lap_time_ms) for lap in car.laps if lap.lap_time_ms > 0],
        )
    return "\n".join([*parts, "</svg>"])


def position_chart(session: Session, numbers: list[str] | None = None, limit: int = 10) -> str:
    """Overall position at the end of each lap, as the timing system gave it."""
    cars = _chosen(session, numbers, limit)
    laps = [lap for car in cars for lap in car.laps if lap.position is not None]
    parts = _frame(f"Positions — {session.name}", "position")
    if not laps:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no laps yet</text>'
        )
        return "\n".join([*parts, "</svg>"])
    max_lap = max(lap.number for lap in laps)
    worst = max(lap.position or 1 for lap in laps)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def xy(number: int, position: int) -> tuple[float, float]:
        x = LEFT + plot_w * (number - 1) / max(1, max_lap - 1)
        y = TOP + plot_h * (position - 1) / max(1, worst - 1)
        return x, y

    step = max(1, worst // 8)
    ticks = [(xy(1, p)[1], str(p)) for p in [1, *range(1 + step, worst + 1, step)]]
    _axes(parts, max_lap, ticks)
    for index, car in enumerate(cars):
        points = [xy(lap.number, lap.position) for lap in car.laps if lap.position is not None]
        _line(parts, car, index, points)
    return "\n".join([*parts, "</svg>"])
