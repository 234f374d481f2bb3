"""The iRacing wire: the seed integration's shapes (camelCase), with a few more fields."""

from __future__ import annotations

from datetime import datetime

from trackside.api.schemas.base import Wire


class StartOut(Wire):
    auth_url: str
    message: str


class StatusOut(Wire):
    connected: bool
    cust_id: int | None = None
    display_name: str | None = None
    expires_at: datetime | None = None
    is_expired: bool = False
    needs_reconnect: bool = False
    last_synced_at: datetime | None = None
    connected_at: datetime | None = None
    last_error: str | None = None


class SyncOut(Wire):
    message: str
    synced: int
    errors: int
    error_details: list[str]
    rate_limit_reset_in_s: float | None = None


class ParticipantOut(Wire):
    cust_id: int | None
    display_name: str | None
    team_name: str | None = None
    car_number: str | None = None
    car_class: str | None = None
    laps_completed: int | None
    best_lap_time: float | None
    incidents: int | None
    finish_position: int | None
    starting_position: int | None
    total_laps: int | None = None


class SessionOut(Wire):
    id: int
    session_id: str
    sub_session_id: int
    session_type: str
    kind: str
    league_id: int | None
    league_name: str | None
    season_id: int | None
    session_name: str | None
    track_name: str | None
    car_name: str | None
    start_time: datetime | None
    end_time: datetime | None
    participant_count: int
    participant: ParticipantOut | None


class SessionsOut(Wire):
    sessions: list[SessionOut]
    total: int
    limit: int
    offset: int


class ImportOut(Wire):
    event_id: int
    sub_session_id: int
    records: int
    laps: int
    drivers: int
    message: str


class Problem(Wire):
    detail: str
