"""``trackside db``, ``users`` and ``clients``, run as a person would, on a fresh data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trackside.cli import app
from trackside.store.migrate import head_revision

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DATABASE_URL", "SMTP_URL", "PUBLIC_URL"):
        monkeypatch.delenv(f"TRACKSIDE_{name}", raising=False)
    monkeypatch.setenv("TRACKSIDE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRACKSIDE_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("TRACKSIDE_ARGON2_MEMORY_KIB", "8")
    monkeypatch.setenv("TRACKSIDE_ARGON2_PARALLELISM", "1")
    return tmp_path / "data"


def run(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code != 0, result.output
    return result.output


def test_db_upgrade_creates_the_database(data_dir: Path) -> None:
    assert f"revision {head_revision()}" in run("db", "upgrade")
    assert (data_dir / "trackside.db").exists()
    assert f"revision {head_revision()}" in run("db", "upgrade")


def test_users_create_list_set_role_and_level() -> None:
    run("users", "create", "ana", "--email", "ana@example.org", "--password", "secret pw")
    run("users", "create", "max", "--email", "max@example.org", "--password", "secret pw",
        "--role", "admin")  # fmt: skip
    users = json.loads(run("users", "list", "--json"))
    assert [(u["username"], u["roles"], u["verified"]) for u in users] == [
        ("ana", [], True),
        ("max", ["admin"], True),
    ]
    assert "password" not in json.dumps(users)

    run("users", "set-role", "ana", "official")
    run("users", "set-level", "ana", "5")
    (ana, _) = json.loads(run("users", "list", "--json"))
    assert ana["roles"] == ["official"]
    assert ana["telemetry_level"] == 5
    run("users", "set-role", "ana", "official", "--remove")
    assert json.loads(run("users", "list", "--json"))[0]["roles"] == []
    assert "ana" in run("users", "list")


def test_user_errors_exit_non_zero() -> None:
    run("users", "create", "ana", "--email", "ana@example.org", "--password", "secret pw")
    taken = run("users", "create", "ANA", "--email", "b@example.org", "--password", "x", ok=False)
    assert "taken" in taken
    assert "unknown role" in run(
        "users", "create", "bo", "--email", "bo@x.org", "--password", "pw", "--role", "boss",
        ok=False,
    )  # fmt: skip
    assert "organization" in run("users", "set-role", "ana", "organizer", ok=False)
    assert "no organization 7" in run(
        "users", "set-role", "ana", "organizer", "--organization", "7", ok=False
    )
    assert "no user" in run("users", "set-level", "ghost", "3", ok=False)
    assert run("users", "set-level", "ana", "9", ok=False)
    # Nothing half-made: the failed create with a bad scope left no account behind.
    run("users", "create", "cy", "--email", "cy@x.org", "--password", "pw",
        "--role", "official", "--event", "99", ok=False)  # fmt: skip
    assert [u["username"] for u in json.loads(run("users", "list", "--json"))] == ["ana"]


def test_clients_create_list_revoke() -> None:
    made = json.loads(run("clients", "create", "Relay North", "--role", "official", "--json"))
    assert set(made) == {"client_id", "client_secret"}
    assert made["client_id"].startswith("relay-north-")
    plain = run("clients", "create", "partner")
    assert "client_secret:" in plain

    listed = json.loads(run("clients", "list", "--json"))
    assert [(c["name"], c["role"], c["revoked"]) for c in listed] == [
        ("Relay North", "official", None),
        ("partner", "viewer", None),
    ]
    assert made["client_secret"] not in json.dumps(listed)

    run("clients", "revoke", made["client_id"])
    listed = json.loads(run("clients", "list", "--json"))
    assert listed[0]["revoked"] is not None
    assert "no client" in run("clients", "revoke", "nope", ok=False)
    assert "no event 5" in run("clients", "create", "x", "--event", "5", ok=False)
    assert "Relay North" in run("clients", "list")
