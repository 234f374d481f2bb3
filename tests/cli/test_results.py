"""``trackside results``: an official prints the session's sheet from the local database."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from tests.api.test_classification import FEED
from trackside.cli import app
from trackside.config import Settings
from trackside.events import ingest
from trackside.events import service as events
from trackside.platform import Platform

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DATABASE_URL", "SMTP_URL", "PUBLIC_URL", "REDIS_URL"):
        monkeypatch.delenv(f"TRACKSIDE_{name}", raising=False)
    monkeypatch.setenv("TRACKSIDE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


async def _declared_race() -> tuple[int, int]:
    """An event whose race was scored, corrected and declared, as the server would leave it."""
    platform = await Platform.start(Settings(), with_keys=False)
    try:
        async with platform.db_factory() as db:
            org = await events.create_organization(db, {"name": "Club", "description": ""})
            when = datetime(2025, 6, 1, tzinfo=UTC)
            event = await events.create_event(
                db,
                {"organization_id": org.id, "name": "Spring Cup", "start_date": when,
                 "end_date": when, "location": "Sebring", "visibility": "public"},
            )  # fmt: skip
            lines = [
                ingest.IncomingRecord(seq, 1_745_000_000_000 + seq, "rmonitor", line)
                for seq, line in enumerate(FEED, start=1)
            ]
            await ingest.append(db, platform.event_locks, event.id, "rmonitor", lines)
            processor = await platform.processors.record_arrived(event.id)
            session = processor.session_id_of(0)
            assert session is not None
            fix = {"car": "42", "kind": "disqualify", "reason": "fuel sample"}
            await platform.classification.correct(db, event, session, "steward", fix)
            await platform.classification.declare(db, event, session, "steward")
            return event.id, session
    finally:
        await platform.close()


def test_results_writes_the_official_sheet(tmp_path: Path) -> None:
    event, session = asyncio.run(_declared_race())
    listed = runner.invoke(app, ["results", "--event", str(event)])
    assert listed.exit_code == 0, listed.output
    assert "Feature Race" in listed.output and "official" in listed.output

    pdf, as_json = tmp_path / "race.pdf", tmp_path / "race.json"
    args = ["results", "--event", str(event), "--session", str(session)]
    written = runner.invoke(app, [*args, "--pdf", str(pdf), "--json", str(as_json)])
    assert written.exit_code == 0, written.output
    assert "revision 1" in written.output and "3 cars" in written.output
    text = PdfReader(pdf).pages[0].extract_text()
    # "—" where the system has DejaVu Sans, "-" with the PDF core font
    assert re.search("Official [—-] revision 1", text), text
    assert "Spring Cup" in text and "fuel sample" in text
    for name in ("Ann Able", "Bo Baker", "Cy Cole"):
        assert name in text
    result = json.loads(as_json.read_text())
    assert [c["number"] for c in result["cars"]] == ["7", "9", "42"]
    assert result["cars"][2]["status"] == "DSQ"

    missing = runner.invoke(app, ["results", "--event", str(event), "--session", "999"])
    assert missing.exit_code == 1 and "no session 999" in missing.output
