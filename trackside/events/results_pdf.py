"""A session's results as the PDF a timing official posts on the board and hands out.

Drawn with fpdf2 from the results shape the API serves (``live_reads.session_results``):
a title block with the status (``Official — revision N`` or ``Provisional``), the session's
flag periods, the classification with class positions, gaps, best laps and penalties, the
corrections with their reasons, and a footer saying when and by whom it was declared.
DejaVu Sans is used where the system has it (any name prints); otherwise the PDF core font,
with text outside Latin-1 replaced.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from trackside.feeds.clock import format_duration, format_interval

FONT_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/Library/Fonts/DejaVuSans.ttf"),
)
# Column title, width in mm, how a car shows in it.
COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("Pos", 10, "position"),
    ("No", 11, "number"),
    ("Class", 16, "class"),
    ("PIC", 10, "class_position"),
    ("Name", 48, "name"),
    ("Laps", 11, "laps"),
    ("Total", 22, "total_time_ms"),
    ("Gap", 20, "gap"),
    ("Best", 18, "best_lap_ms"),
    ("Penalty", 24, "penalty"),
)


def status_line(classification: dict[str, Any]) -> str:
    if classification["status"] == "official":
        return f"Official — revision {classification['revision']}"
    revised = classification["revision"]
    return f"Provisional (changed since revision {revised})" if revised else "Provisional"


def _penalty(car: dict[str, Any]) -> str:
    parts = []
    if car.get("status"):
        parts.append(car["status"])
    if car.get("penalty_ms"):
        parts.append(f"+{format_duration(car['penalty_ms'])}")
    if car.get("lap_correction"):
        parts.append(f"{car['lap_correction']:+d} laps")
    if car.get("penalty_laps"):
        parts.append(f"-{car['penalty_laps']} laps (RC)")
    return " ".join(parts)


def cell_text(car: dict[str, Any], key: str) -> str:
    if key == "gap":
        return format_interval(car["gap_ms"], car["gap_laps"])
    if key == "penalty":
        return _penalty(car)
    if key.endswith("_ms"):
        return format_duration(car[key])
    value = car.get(key)
    return "" if value is None else str(value)


def _correction_text(fix: dict[str, Any]) -> str:
    value = {
        "laps": f"{fix['laps']:+d} laps" if fix["laps"] is not None else "",
        "time_penalty": f"+{format_duration(fix['ms'])}" if fix["ms"] else "",
        "class": f"to {fix['class']}",
    }.get(fix["kind"], "")
    text = (
        f"#{fix['id']} car {fix['car']}: {fix['kind'].replace('_', ' ')} {value} — {fix['reason']}"
    )
    text += f" ({fix['by']}, {fix['at']})"
    return text + (" — withdrawn" if fix["withdrawn"] else "")


class _Sheet(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(self.font_family, size=8)
        self.cell(0, 5, f"{self.footer_text}    page {self.page_no()}/{{nb}}", align="C")


def _font(pdf: _Sheet) -> None:
    for path in FONT_PATHS:
        if path.exists():
            pdf.add_font("dejavu", fname=str(path))
            pdf.set_font("dejavu", size=9)
            return
    pdf.set_font("helvetica", size=9)


def _text(pdf: FPDF, text: str) -> str:
    if pdf.font_family == "helvetica":
        return text.replace("—", "-").encode("latin-1", "replace").decode("latin-1")
    return text


def results_pdf(result: dict[str, Any], event_name: str, now: datetime | None = None) -> bytes:
    """The session's results sheet; ``result`` as ``/results`` serves it (JSON)."""
    classification = result["classification"]
    pdf = _Sheet(orientation="portrait", format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    _font(pdf)
    family = pdf.font_family
    declared = classification.get("declaredAt")
    printed = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    pdf.footer_text = (
        _text(
            pdf,
            f"Declared {declared} by {classification['declaredBy']}"
            if classification["status"] == "official"
            else "Provisional: not declared official"
            + (f" (last declared {declared})" if declared else ""),
        )
        + f"    printed {printed}"
    )
    pdf.add_page()

    def line(text: str, size: float = 9, height: float = 5, bold: bool = False) -> None:
        pdf.set_font(family, size=size)
        pdf.multi_cell(0, height, _text(pdf, text), new_x="LMARGIN", new_y="NEXT")

    line(event_name, size=16, height=8)
    name = result.get("name") or f"Run {result.get('run')}"
    line(
        f"{name} — {result.get('type', '')}"
        + (f" — {result['track']}" if result.get("track") else ""),
        12,
        6,
    )
    line(status_line(classification), size=13, height=7)
    pdf.ln(2)

    line("Flag periods", size=11, height=6)
    periods = result.get("flag_periods") or []
    if not periods:
        line("none recorded")
    for period in periods:
        end = period.get("end_ms")
        span = (
            ""
            if end is None
            else f" to {format_duration(end)} ({format_duration(end - period['start_ms'])})"
        )
        line(f"{period['flag']}: from {format_duration(period['start_ms'])}{span}")
    pdf.ln(2)

    line("Classification", size=11, height=6)
    pdf.set_font(family, size=8)
    for title, width, _ in COLUMNS:
        pdf.cell(width, 5, title, border="B")
    pdf.ln()
    for car in result["cars"]:
        for _, width, key in COLUMNS:
            text = _text(pdf, cell_text(car, key))
            while text and pdf.get_string_width(text) > width - 1:
                text = text[:-1]
            pdf.cell(width, 5, text)
        pdf.ln()
    pdf.ln(2)

    fixes = classification.get("corrections") or []
    line("Corrections", size=11, height=6)
    if not fixes:
        line("none")
    for fix in fixes:
        line(_correction_text(fix), size=8, height=4)
    return bytes(pdf.output())
