from __future__ import annotations

import time
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trackside.feeds.controllog import (
    ColumnMapping,
    changes,
    column_mapping,
    decode_text,
    issues,
    parse_cars,
    parse_control_log,
    parse_log_time,
)
from trackside.feeds.controllog_penalties import PenaltyRules, penalty_rules
from trackside.feeds.controllog_records import (
    BLACK_FLAG,
    HEADER_KEY,
    NO_PENALTY,
    PENALTY_LAPS,
    WARNING,
    ControlLogBadRow,
    ControlLogEntry,
    ControlLogIssue,
    ControlLogRemoval,
    Penalty,
    latest,
)

# An endurance series' sheet exported as CSV: title rows, two "Car #" columns, quoted commas,
# a general note without a car, and rows race control left unfinished.
WRL = """\
WRL Barber Motorsports Park 2025 - Race Control Log,,,,,,,
Saturday 26 April,,,,,,,
,,,,,,,
Time,Corner,Car #,Car #,Note,Status,Penalty / Action,Other Notes
9:12:33 AM,T5,77,,Off track 4 wheels,Reviewed,Warning,
9:40:02 AM,T1,12,144,"Contact, 12 into 144 at apex",Penalty,1 Lap,12 admitted
10:05:47 AM,Pit Lane,#33,,Speeding in pit lane (62 km/h),Penalty,Drive Through,
10:31:19 AM,T8,,,"Debris on track, local yellow",Closed,,
10:58:02 AM,T3,5,,Passing under yellow,Under review,,
11:15:40 AM,T12,12,,Unsafe release,Penalty,Stop & Go,
11:20:00 AM,T1,77,,Off track again,Reviewed,warning,
,T2,88,,Spun,Open,,
11:3x:00 AM,T2,88,,Spun again,Open,,
11:45:10 AM,T10,144,88,Avoidable contact,Penalty,2 laps,
12:01:00 PM,T4,33,,Black flag for mechanical,Open,Black flag - meatball,
12:30:12 PM,T5,,,Oil at T5 - all cars,Closed,Warning,
,,,,,,,
"""


def _entries(records) -> dict[str, ControlLogEntry]:
    return {r.key: r for r in records if isinstance(r, ControlLogEntry)}


def test_wrl_sheet_rows() -> None:
    records = parse_control_log(WRL)
    assert len(records) == 12  # blank rows are no rows
    entries = _entries(records)
    first = entries["row:5"]
    assert first == ControlLogEntry(
        key="row:5",
        row=5,
        time_of_day_ms=(9 * 3600 + 12 * 60 + 33) * 1000,
        date=None,
        cars=("77",),
        corner="T5",
        description="Off track 4 wheels",
        penalty_text="Warning",
        penalty=Penalty(WARNING),
        status="Reviewed",
    )
    contact = entries["row:6"]
    assert contact.cars == ("12", "144")
    assert contact.description == "Contact, 12 into 144 at apex"
    assert contact.penalty == Penalty(PENALTY_LAPS, 1)
    assert contact.penalized_car == "12"
    assert contact.extra == (("Other Notes", "12 admitted"),)
    assert entries["row:7"].cars == ("33",)
    assert entries["row:7"].penalty == Penalty(BLACK_FLAG)
    assert entries["row:8"].cars == () and entries["row:8"].penalized_car is None
    assert entries["row:10"].penalty == Penalty(BLACK_FLAG)  # stop & go
    assert entries["row:14"].penalty == Penalty(PENALTY_LAPS, 2)
    assert entries["row:15"].time_of_day_ms == (12 * 3600 + 1 * 60) * 1000  # 12:01 PM
    assert entries["row:16"].penalized_car is None  # a warning to nobody in particular


def test_bad_rows_are_kept_and_the_rest_imported() -> None:
    records = parse_control_log(WRL)
    bad = [r for r in records if isinstance(r, ControlLogBadRow)]
    assert [(r.key, r.reason) for r in bad] == [
        ("row:12", "no time"),
        ("row:13", "unreadable time '11:3x:00 AM'"),
    ]
    assert bad[0].cells == ("", "T2", "88", "", "Spun", "Open", "", "")
    assert len(_entries(records)) == 10


def test_issues_report_bad_rows_and_unknown_cars() -> None:
    records = parse_control_log(WRL)
    known = {"77", "12", "144", "33", "5"}
    assert issues(records, known) == [
        ControlLogIssue("row:12", 12, "no time"),
        ControlLogIssue("row:13", 13, "unreadable time '11:3x:00 AM'"),
        ControlLogIssue("row:14", 14, "unknown car 88", ("88",)),
    ]
    # Car numbers are compared upper-case: the entry list may say "33x" or "33X".
    assert issues(parse_control_log("Time,Car\n10:00,33x\n"), {"33X"}) == []
    assert issues(records) == issues(records, None)
    assert len(issues(records)) == 2


def test_semicolons_bom_windows_1252_and_a_series_mapping() -> None:
    text = (
        "Zeit;Kurve;Fahrzeuge;Beschreibung;Strafe;Status;Nr\r\n"
        "26.04.2025 14:32:05;Kurve 3;7 / 31;"
        "Kollision \u2013 Überholen unter Gelb;Verwarnung;ok;A1\r\n"
        '26.04.2025 14:40:00;Boxengasse;31;"Tempo; 68 km/h";Durchfahrt;ok;A2\r\n'
        "26.04.2025 15:02:00;Kurve 1;7;Abdrängen;2 Runden;ok;A3\r\n"
    )
    data = b"\xef\xbb\xbf" + text.encode("cp1252")
    mapping = column_mapping(
        {
            "time": "Zeit",
            "cars": ["Fahrzeuge"],
            "corner": "Kurve",
            "description": "Beschreibung",
            "penalty": "Strafe",
            "id": "Nr",
            "day_first": True,
        }
    )
    rules = penalty_rules(
        {r"verwarn": "warning", r"(\d+)\s*runden?": "laps", r"durchfahrt": "black_flag"}
    )
    records = parse_control_log(data, mapping, rules)
    assert [r.key for r in records] == ["id:A1", "id:A2", "id:A3"]
    first, second, third = records
    assert isinstance(first, ControlLogEntry)
    assert first.date == date(2025, 4, 26)
    assert first.description == "Kollision \u2013 Überholen unter Gelb"
    assert first.cars == ("7", "31")
    assert first.penalty == Penalty(WARNING)
    assert isinstance(second, ControlLogEntry) and second.description == "Tempo; 68 km/h"
    assert second.penalty == Penalty(BLACK_FLAG)
    assert isinstance(third, ControlLogEntry) and third.penalty == Penalty(PENALTY_LAPS, 2)


def test_tab_delimited_and_repeated_ids() -> None:
    text = "ID\tTime\tCar\tPenalty\n1\t10:00\t5\tWarning\n1\t10:05\t6\tWarning\n"
    records = parse_control_log(text)
    assert isinstance(records[0], ControlLogEntry) and records[0].key == "id:1"
    assert records[1] == ControlLogBadRow(
        "row:3", 3, ("1", "10:05", "6", "Warning"), "id '1' repeats row 2"
    )


def test_excel_unicode_text_keeps_its_first_header() -> None:
    """Excel's "Unicode Text" export: UTF-16LE with a BOM, tab-delimited, CRLF."""
    text = "Time\tCar\tPenalty\r\n10:00\t5\tWarning\r\n10:05\t6\t1 Lap\r\n"
    for data in (text.encode("utf-16"), b"\xfe\xff" + text.encode("utf-16-be")):
        first, second = parse_control_log(decode_text(data))
        assert isinstance(first, ControlLogEntry), first
        assert first.cars == ("5",) and first.time_of_day_ms == 10 * 3600 * 1000
        assert isinstance(second, ControlLogEntry) and second.penalty == Penalty(PENALTY_LAPS, 1)


def test_no_header_is_one_bad_row() -> None:
    page = "<html><body>Sign in to continue</body></html>\n"
    assert parse_control_log(page) == [
        ControlLogBadRow(
            HEADER_KEY,
            0,
            ("<html><body>Sign in to continue</body></html>",),
            "no header with a time column (time, timestamp, time of day, date/time)",
        )
    ]
    assert parse_control_log(b"")[0].key == HEADER_KEY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:32:05", (None, 52_325_000)),
        ("14:32", (None, 52_320_000)),
        ("2:32:05 PM", (None, 52_325_000)),
        ("12:00:00 am", (None, 0)),
        ("12:15 p.m.", (None, 44_100_000)),
        ("09:01:02.5", (None, 32_462_500)),
        ("2025-04-26 14:32:05", (date(2025, 4, 26), 52_325_000)),
        ("2025-04-26T14:32:05.123", (date(2025, 4, 26), 52_325_123)),
        ("4/26/2025 2:32:05 PM", (date(2025, 4, 26), 52_325_000)),
        ("26.04.25 14:32", (date(2025, 4, 26), 52_320_000)),
    ],
)
def test_log_times(text: str, expected: tuple[date | None, int]) -> None:
    assert parse_log_time(text) == expected


def test_day_first_slashes_and_bad_times() -> None:
    assert parse_log_time("26/4/2025 14:00", day_first=True)[0] == date(2025, 4, 26)
    for bad in ["", "noon", "25:00", "13:00 PM", "10:61", "2/30/2025 10:00", "10:00:00 XM"]:
        with pytest.raises(ValueError):
            parse_log_time(bad)


@pytest.mark.parametrize(
    ("cell", "cars"),
    [
        ("12", ("12",)),
        ("#12 / 34x", ("12", "34X")),
        ("12 & 34, 56", ("12", "34", "56")),
        ("12 vs 34", ("12", "34")),
        ("12 v. 34", ("12", "34")),
        ("05 and 5", ("05", "5")),
        ("12/12", ("12",)),
        ("", ()),
    ],
)
def test_car_cells(cell: str, cars: tuple[str, ...]) -> None:
    assert parse_cars(cell) == cars


# ---------------------------------------------------------------------------- penalty rules


@pytest.mark.parametrize(
    ("text", "penalty"),
    [
        ("Warning", Penalty(WARNING)),
        ("Final warning", Penalty(WARNING)),
        ("Warned", Penalty(WARNING)),
        ("1 Lap", Penalty(PENALTY_LAPS, 1)),
        ("3 laps", Penalty(PENALTY_LAPS, 3)),
        ("Two laps", Penalty(PENALTY_LAPS, 2)),
        ("1-lap penalty", Penalty(PENALTY_LAPS, 1)),
        ("Drive through", Penalty(BLACK_FLAG)),
        ("Drive-thru", Penalty(BLACK_FLAG)),
        ("Stop and go", Penalty(BLACK_FLAG)),
        ("stop/go 30s", Penalty(BLACK_FLAG)),
        ("Stop-n-Go", Penalty(BLACK_FLAG)),
        ("Black Flag", Penalty(BLACK_FLAG)),
        ("Talk to driver after session", Penalty()),
        ("Lapped traffic", Penalty()),  # "lap" without a count is no lap penalty
        ("", Penalty()),
    ],
)
def test_default_penalty_rules(text: str, penalty: Penalty) -> None:
    assert PenaltyRules().classify(text) == penalty


def test_void_status_cancels_the_penalty_and_unknown_text_is_kept() -> None:
    rules = PenaltyRules()
    assert rules.classify("1 Lap", status="Rescinded") == Penalty()
    assert rules.classify("1 Lap", status=" OVERTURNED ") == Penalty()
    records = parse_control_log(
        "Time,Car,Penalty,Status\n10:00,5,1 Lap,Rescinded\n10:01,6,Parc fermé check,Open\n"
    )
    assert [(r.penalty_text, r.penalty.kind) for r in records] == [
        ("1 Lap", NO_PENALTY),
        ("Parc fermé check", NO_PENALTY),
    ]


def test_series_rules_with_fixed_lap_counts() -> None:
    rules = penalty_rules({r"\bDT\b": "laps:1", r"\bSG\b": "black_flag", "reprimand": "warning"})
    assert rules.classify("DT") == Penalty(PENALTY_LAPS, 1)
    assert rules.classify("SG served") == Penalty(BLACK_FLAG)
    assert rules.classify("Reprimand") == Penalty(WARNING)
    assert rules.classify("1 lap") == Penalty()  # only the series' own rules apply
    with pytest.raises(ValueError, match="unknown penalty kind"):
        penalty_rules({"x": "disqualify"})
    with pytest.raises(ValueError, match="not a number"):
        penalty_rules({"x": "laps:two"})
    with pytest.raises(ValueError, match="unknown control log field"):
        column_mapping({"driver": "Pilot"})


# ---------------------------------------------------------------------------- changes


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_first_import_then_no_changes() -> None:
    first = parse_control_log(WRL)
    assert changes([], first) == first
    assert changes(first, parse_control_log(WRL)) == []


def test_edited_row_becomes_a_new_revision() -> None:
    log = changes([], parse_control_log(WRL))
    edited = _edit(WRL, "Penalty,1 Lap,12 admitted", "Penalty,2 Laps,12 admitted")
    new = changes(log, parse_control_log(edited))
    assert len(new) == 1
    assert isinstance(new[0], ControlLogEntry)
    assert (new[0].key, new[0].revision, new[0].penalty) == ("row:6", 2, Penalty(PENALTY_LAPS, 2))
    log += new
    assert latest(log)["row:6"] == new[0]
    assert changes(log, parse_control_log(edited)) == []


def test_deleted_row_is_a_removal_and_can_come_back() -> None:
    log = changes([], parse_control_log(WRL))
    without = _edit(WRL, "9:12:33 AM,T5,77,,Off track 4 wheels,Reviewed,Warning,\n", "")
    new = changes(log, parse_control_log(without))
    # Keyed by row number: every row below the deleted one moved up, so each changed.
    assert new[-1] == ControlLogRemoval("row:16", 16, 2)
    assert len(new) == 12 and all(r.revision == 2 for r in new)
    log += new
    back = changes(log, parse_control_log(WRL))
    assert {r.revision for r in back} == {3}
    assert latest(log + back)["row:16"] == replace(parse_control_log(WRL)[-1], revision=3)


ID_LOG = """\
Incident ID,Time,Car,Description,Penalty,Status
101,10:00:00,7,Contact T1,Warning,Closed
102,10:10:00,31,Pit speeding,Drive through,Closed
103,10:20:00,7,Contact T4,1 lap,Closed
"""


def test_id_keyed_rows_survive_reordering_and_deletion_of_others() -> None:
    log = changes([], parse_control_log(ID_LOG))
    assert [r.key for r in log] == ["id:101", "id:102", "id:103"]
    lines = ID_LOG.splitlines()
    reordered = "\n".join([lines[0], lines[3], lines[1]]) + "\n"
    new = changes(log, parse_control_log(reordered))
    assert new == [ControlLogRemoval("id:102", 3, 2)]
    edited = _edit(ID_LOG, "Contact T4,1 lap,Closed", "Contact T4,1 lap,Rescinded")
    new = changes(log, parse_control_log(edited))
    assert len(new) == 1 and new[0].key == "id:103" and new[0].revision == 2
    assert isinstance(new[0], ControlLogEntry) and new[0].penalty == Penalty()


def test_failed_import_withdraws_nothing() -> None:
    log = changes([], parse_control_log(ID_LOG))
    failed = parse_control_log("<html>502 Bad Gateway</html>")
    new = changes(log, failed)
    assert [r.key for r in new] == [HEADER_KEY]
    log += new
    assert changes(log, parse_control_log("<html>502 Bad Gateway</html>")) == []
    # The sheet is back: the header problem is withdrawn, the entries were never touched.
    assert changes(log, parse_control_log(ID_LOG)) == [ControlLogRemoval(HEADER_KEY, 0, 2)]


def test_bad_row_fixed_upstream_supersedes_itself() -> None:
    log = changes([], parse_control_log(WRL))
    fixed = _edit(WRL, "11:3x:00 AM", "11:35:00 AM")
    new = changes(log, parse_control_log(fixed))
    assert len(new) == 1
    assert isinstance(new[0], ControlLogEntry)
    assert (new[0].key, new[0].revision, new[0].cars) == ("row:13", 2, ("88",))


@settings(max_examples=200)
@given(
    text=st.text(
        alphabet=st.sampled_from(
            list('Time,Car;Penalty"\n\r\t 0123456789:APM/.-lapsWarning#&\x00')
        ),
        max_size=300,
    )
)
def test_any_text_imports_without_raising(text: str) -> None:
    records = parse_control_log("Time,Car,Penalty\n" + text)
    assert all(isinstance(r, ControlLogEntry | ControlLogBadRow) for r in records)
    assert changes(records, records) == []


def test_mapping_defaults_cover_common_headers() -> None:
    mapping = ColumnMapping()
    text = "Timestamp,Car(s),Turn,Incident,Action,Status\n10:00,5 & 6,T3,Contact,Warning,Open\n"
    (entry,) = parse_control_log(text, mapping)
    assert isinstance(entry, ControlLogEntry)
    assert (entry.cars, entry.corner, entry.description, entry.penalty.kind) == (
        ("5", "6"),
        "T3",
        "Contact",
        WARNING,
    )


def test_date_in_a_column_of_its_own() -> None:
    text = "Date,Time,Car,Penalty\n4/26/2025,14:00,5,Warning\n4/31/2025,14:05,6,\n,14:10,7,\n"
    first, second, third = parse_control_log(text)
    assert isinstance(first, ControlLogEntry) and first.date == date(2025, 4, 26)
    assert isinstance(second, ControlLogBadRow) and second.reason == "no such date in '4/31/2025'"
    assert isinstance(third, ControlLogEntry) and third.date is None


def test_a_catastrophic_pattern_runs_in_linear_time() -> None:
    """``(a+)+$`` backtracks 2^n times in Python's ``re``; the board must not freeze on it."""
    rules = penalty_rules({"(a+)+$": "warning", "(x+x+)+y": "black_flag"})
    started = time.perf_counter()
    assert rules.classify("a" * 30 + "!") == Penalty()
    assert rules.classify("x" * 5000) == Penalty()
    assert time.perf_counter() - started < 1.0


def test_odd_digits_in_a_lap_count_are_no_count() -> None:
    """``"²".isdigit()`` is True but ``int("²")`` raises: such a count is no count."""
    rules = penalty_rules({r"(\S+)\s*laps?": "laps"})
    assert rules.classify("² laps") == Penalty()
    assert rules.classify("2 laps") == Penalty(PENALTY_LAPS, 2)
