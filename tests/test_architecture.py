"""The import rules of docs/architecture.md, checked on the source (AST, no imports run).

- The core (``feeds``, ``timing``, ``live``) imports no product package and nothing of the
  server side.
- A product package (``accounts``, ``events``, ``controllog``) reaches another package only
  through that package's public modules (its service functions), never its tables or internals.
- Only the app wiring imports ``api``; packages may use ``api.deps``, ``api.errors``,
  ``api.problems`` and ``api.schemas.base`` (the shared route plumbing).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "trackside"

CORE = ("feeds", "timing", "live")
PACKAGES = ("accounts", "events", "controllog", "judging", "iracing", "tracking", "telemetry")
SERVER_SIDE = (*PACKAGES, "api", "store", "platform", "commands", "web", "relay", "sim", "cli")

# What other packages may import of each package: its service modules.
PUBLIC: dict[str, frozenset[str]] = {
    "accounts": frozenset(
        {"people", "principals", "roles", "tokens", "keys", "mail", "passwords", "ratelimit"}
        | {"clients", "logins", "password_reset", "email_tokens", "opaque"}
    ),
    "events": frozenset(
        {"service", "entries", "ingest", "manager", "processors", "live_reads", "loops", "hub"}
    ),
    "controllog": frozenset({"service", "source", "poller"}),
    "judging": frozenset({"service", "records", "claims"}),
    "iracing": frozenset({"connections", "sync", "imports"}),
    "tracking": frozenset({"live", "service", "prune"}),
    "telemetry": frozenset({"service", "tokens", "laps"}),
}

# Modules of ``api`` that everything server-side may use; the rest is the app's own wiring.
API_SHARED = frozenset(
    {
        "trackside.api.deps",
        "trackside.api.errors",
        "trackside.api.problems",
        "trackside.api.openapi",
    }
    | {"trackside.api.schemas.base"}
)
API_WIRING = ("trackside.api", "trackside.platform", "trackside.cli", "trackside.commands")


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def imports(path: Path, name: str) -> Iterator[str]:
    """Every module a file imports (``from a import b`` counts ``a.b`` too when b is a module)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".")[: -node.level if path.name != "__init__.py" else None]
                base = ".".join([*package, base] if base else package)
            yield base
            yield from (f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}"))


def area(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "trackside" else None


def violations() -> list[str]:
    found: list[str] = []
    for name, path in modules():
        own = area(name)
        for target in set(imports(path, name)):
            other = area(target)
            if other is None or other == own:
                continue
            where = f"{name} imports {target}"
            if own in CORE and other in SERVER_SIDE:
                found.append(f"{where}: the core imports no package or server code")
            elif own in PACKAGES and other in PACKAGES:
                module = target.split(".")
                public = PUBLIC[other]
                # ``from trackside.events import service`` names trackside.events too: allowed.
                if len(module) > 2 and module[2] not in public:
                    found.append(f"{where}: use {other}'s service functions, not its internals")
            elif (
                other == "api"
                and target not in API_SHARED
                and target != "trackside.api"
                and not name.startswith(API_WIRING)
            ):
                found.append(f"{where}: only the app wiring imports api/")
    return sorted(found)


def _is_module(target: str) -> bool:
    path = ROOT.parent.joinpath(*target.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def test_imports_follow_the_architecture() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("name", "source", "problem"),
    [
        ("trackside.timing.fake", "from trackside.events import service\n", "core"),
        ("trackside.live.fake", "import trackside.store.base\n", "core"),
        ("trackside.controllog.fake", "from trackside.events.models import Entry\n", "internals"),
        (
            "trackside.accounts.fake",
            "from trackside.events.racelog import LogRecord\n",
            "internals",
        ),
        ("trackside.events.fake", "from trackside.api.app import create_app\n", "api/"),
        ("trackside.relay.fake", "from trackside.api.routes import health\n", "api/"),
    ],
)
def test_the_rules_catch_a_bad_import(
    name: str, source: str, problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "fake.py"
    fake.write_text(source)
    monkeypatch.setattr("tests.test_architecture.modules", lambda: iter([(name, fake)]))
    found = violations()
    assert found and all(problem in line for line in found)
