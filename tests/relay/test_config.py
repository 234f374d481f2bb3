"""Relay options: checked with clear errors before anything runs; stable source names."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from trackside.cli import app
from trackside.relay.config import (
    ConfigError,
    name_sources,
    parse_event,
    parse_server,
    parse_tcp,
)


def test_server_url() -> None:
    assert parse_server("https://timing.example.org/") == "https://timing.example.org"
    assert parse_server(" http://127.0.0.1:8000/base/ ") == "http://127.0.0.1:8000/base"
    for bad, why in [
        ("ftp://example.org", "http:// or https://"),
        ("timing.example.org", "http:// or https://"),
        ("https://", "no host"),
        ("https://user:pw@example.org", "no credentials"),
        ("https://example.org:99999", "bad port"),
    ]:
        with pytest.raises(ConfigError, match=why):
            parse_server(bad)


def test_tcp_endpoints() -> None:
    assert parse_tcp("--rmonitor", "tcp://10.0.0.5:50001", 50000) == ("10.0.0.5", 50001)
    assert parse_tcp("--p3", "tcp://decoder", 5403) == ("decoder", 5403)
    assert parse_tcp("--p3", "tcp://[::1]:5403", 5403) == ("::1", 5403)
    for bad, why in [
        ("10.0.0.5:50000", "use tcp://HOST:PORT"),
        ("http://h:1", "use tcp://HOST:PORT"),
        ("tcp://:50000", "no host"),
        ("tcp://h:0", "bad port"),
        ("tcp://h:port", "bad port"),
        ("tcp://h:1/feed", "no path"),
    ]:
        with pytest.raises(ConfigError, match=why):
            parse_tcp("--rmonitor", bad, 50000)


def test_event_id() -> None:
    assert parse_event(" 42 ") == "42"
    for bad in ["", "  ", "a/b"]:
        with pytest.raises(ConfigError, match="--event"):
            parse_event(bad)


def test_source_names_are_stable_when_a_source_is_added(tmp_path: Path) -> None:
    one = name_sources(["tcp://a:50000"], [], [])
    two = name_sources(["tcp://a:50000", "tcp://b"], [tmp_path / "f.log"], ["tcp://d"])
    assert [s.name for s in one] == ["rmonitor"]
    assert [s.name for s in two] == ["rmonitor", "rmonitor-2", "rmonitor-file", "p3"]
    assert [s.kind for s in two] == ["rmonitor", "rmonitor", "rmonitor", "p3"]
    assert [s.where for s in two] == [
        "tcp://a:50000",
        "tcp://b:50000",
        str(tmp_path / "f.log"),
        "tcp://d:5403",
    ]
    with pytest.raises(ConfigError, match="at least one source"):
        name_sources([], [], [])
    with pytest.raises(ConfigError, match="is a directory"):
        name_sources([], [tmp_path], [])


BASE = ["relay", "--server", "https://t.example", "--event", "7", "--client-id", "stand-1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rmonitor", "tcp://h:50000", "--server", "ftp://x"], "http:// or https://"),
        (["--rmonitor", "h:50000"], "use tcp://HOST:PORT"),
        (["--p3", "tcp://h:70000"], "bad port"),
        ([], "at least one source"),
    ],
)
def test_bad_options_stop_the_command_with_the_reason(args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        app, [*BASE, *args], env={"TRACKSIDE_RELAY_CLIENT_SECRET": "s3cret-value"}
    )
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())  # the box may wrap the message
    assert "s3cret-value" not in result.output


def test_the_secret_is_required_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    assert app.pretty_exceptions_show_locals is False  # a crash report would show it
    monkeypatch.delenv("TRACKSIDE_RELAY_CLIENT_SECRET", raising=False)
    result = CliRunner().invoke(app, [*BASE, "--rmonitor", "tcp://h"])
    assert result.exit_code == 2 and "--client-secret" in result.output
    result = CliRunner().invoke(
        app, ["relay", "--help"], env={"TRACKSIDE_RELAY_CLIENT_SECRET": "s3cret-value"}
    )
    assert result.exit_code == 0 and "s3cret-value" not in result.output
