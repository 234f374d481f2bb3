"""Access rules: one question each, answered from the principal's grants."""

from __future__ import annotations

import pytest

from trackside.accounts.roles import (
    EventScope,
    Grant,
    Principal,
    Role,
    ScopeError,
    can_manage_event,
    can_read_event,
    can_run_event,
    can_write_telemetry,
    check_scope,
)

PUBLIC = EventScope(id=1, organization_id=10, visibility="public")
PRIVATE = EventScope(id=2, organization_id=10, visibility="private")


def who(*grants: Grant, level: int = 1) -> Principal:
    return Principal("user", 1, "u", grants, level)


def test_scopes() -> None:
    check_scope(Role.ORGANIZER, 1, None)
    check_scope(Role.OFFICIAL, None, 3)
    check_scope(Role.OFFICIAL, None, None)
    check_scope(Role.ADMIN, None, None)
    check_scope(Role.VIEWER, None, 2)  # e.g. a partner's client bound to one event
    for role, org, event in [
        (Role.ORGANIZER, None, None),
        (Role.ORGANIZER, 1, 2),
        (Role.ADMIN, 1, None),
        (Role.VIEWER, 1, None),
        (Role.JUDGE, 1, None),
    ]:
        with pytest.raises(ScopeError):
            check_scope(role, org, event)


def test_reading_events() -> None:
    assert can_read_event(who(), PUBLIC)
    assert not can_read_event(who(), PRIVATE)
    assert can_read_event(who(Grant(Role.ORGANIZER, 10)), PRIVATE)
    assert not can_read_event(who(Grant(Role.ORGANIZER, 11)), PRIVATE)
    assert can_read_event(who(Grant(Role.TEAM, None, 2)), PRIVATE)
    assert can_read_event(who(Grant(Role.OFFICIAL)), PRIVATE)
    assert can_read_event(who(Grant(Role.ADMIN)), PRIVATE)


def test_running_and_managing_events() -> None:
    official = who(Grant(Role.OFFICIAL, None, 1))
    assert can_run_event(official, PUBLIC)
    assert not can_run_event(official, PRIVATE)
    assert not can_manage_event(official, PUBLIC)
    assert can_manage_event(who(Grant(Role.ORGANIZER, 10)), PRIVATE)
    assert not can_run_event(who(Grant(Role.JUDGE, None, 1)), PUBLIC)


def test_telemetry_writes_need_level_five() -> None:
    assert not can_write_telemetry(who(level=1))
    assert not can_write_telemetry(who(level=4))
    assert can_write_telemetry(who(level=5))


def test_role_names_always_include_viewer() -> None:
    assert who().role_names() == ["viewer"]
    assert who(Grant(Role.ADMIN), Grant(Role.JUDGE, None, 3)).role_names() == [
        "admin",
        "judge",
        "viewer",
    ]
