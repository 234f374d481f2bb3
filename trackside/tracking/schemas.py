"""Tracking on the wire: dj-rest-auth's account shapes, location reports as the seed's clients
read them (snake_case, Django REST framework paging), and trackside's own tracking resources
(camelCase, as the rest of the API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from trackside.tracking import reports
from trackside.tracking.fixes import default_tid
from trackside.tracking.models import Checkpoint, LocationFix

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$"
    ),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=512)]

# --- dj-rest-auth ----------------------------------------------------------------------------


class RegistrationIn(BaseModel):
    username: Username
    email: EmailStr
    password1: Password
    password2: Annotated[str, StringConstraints(max_length=256)]


class VerifyEmailIn(BaseModel):
    key: Key


class LoginIn(BaseModel):
    username: Annotated[str, StringConstraints(max_length=254)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class LogoutIn(BaseModel):
    refresh: Key | None = None


class PasswordResetIn(BaseModel):
    email: EmailStr


class PasswordResetConfirmIn(BaseModel):
    uid: Annotated[str, StringConstraints(max_length=64)] | None = None
    token: Key
    new_password1: Password
    new_password2: Annotated[str, StringConstraints(max_length=256)]


class DetailOut(BaseModel):
    detail: str


class UserOut(BaseModel):
    """dj-rest-auth's user details."""

    pk: int
    username: str
    email: str
    first_name: str = ""
    last_name: str = ""


class JwtLoginOut(BaseModel):
    """dj-rest-auth's login answer in JWT mode."""

    access: str
    refresh: str
    user: UserOut


class DrfErrors(BaseModel):
    """Django REST framework's validation errors: each field (or ``non_field_errors``) with
    its messages."""

    model_config = ConfigDict(extra="allow")


# --- location reports ------------------------------------------------------------------------

Latitude = Annotated[float, Field(ge=-90, le=90, strict=True, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, strict=True, allow_inf_nan=False)]
Measure = Annotated[float, Field(strict=True, allow_inf_nan=False)] | None


class LocationReportIn(BaseModel):
    latitude: Latitude
    longitude: Longitude
    timestamp: datetime | Annotated[float, Field(strict=True)] | None = Field(
        default=None, description="The fix's own time (ISO 8601 or epoch s); default: now."
    )
    accuracy: Measure = None
    altitude: Measure = None
    speed: Measure = Field(default=None, description="m/s")
    heading: Measure = None
    battery: Measure = Field(default=None, description="percent")
    event: int | None = Field(default=None, ge=1, le=2**31 - 1)


class LocationReportOut(BaseModel):
    id: int
    user: int
    latitude: float
    longitude: float
    timestamp: AwareDatetime
    accuracy: float | None = None
    altitude: float | None = None
    speed: float | None = None
    heading: float | None = None
    battery: float | None = None
    event: int | None = None
    source: str
    device: str
    received_at: AwareDatetime

    @classmethod
    def of(cls, row: LocationFix) -> LocationReportOut:
        return cls(
            id=row.id,
            user=row.user_id,
            latitude=row.latitude,
            longitude=row.longitude,
            timestamp=row.time,
            accuracy=row.accuracy,
            altitude=row.altitude,
            speed=row.speed,
            heading=row.heading,
            battery=row.battery,
            event=row.event_id,
            source=row.source,
            device=row.device_key,
            received_at=row.received_at,
        )


class LocationReportPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[LocationReportOut]


# --- devices, participants, sharing, settings, checkpoints -----------------------------------


class DeviceIn(BaseModel):
    model_config = ConfigDict(strict=True)

    deviceId: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None


class DeviceOut(BaseModel):
    id: int
    deviceId: str | None
    token: str = Field(description="Shown once: the OwnTracks password, or the OsmAnd id.")


class ParticipantIn(BaseModel):
    model_config = ConfigDict(strict=True)

    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class ParticipantOut(BaseModel):
    id: int
    eventId: int
    userId: int
    username: str


class SharingIn(BaseModel):
    model_config = ConfigDict(strict=True)

    paused: bool


class SharingOut(BaseModel):
    paused: bool


class TrackingSettingsIn(BaseModel):
    model_config = ConfigDict(strict=True)

    mapPublic: bool = False
    retentionDays: int = Field(default=30, ge=1, le=3650)


class TrackingSettingsOut(BaseModel):
    eventId: int
    mapPublic: bool
    retentionDays: int


Point = tuple[Latitude, Longitude]


class CheckpointIn(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    kind: Literal["line", "circle"]
    points: list[Point] | None = Field(
        default=None, description="A line: its two ends [[lat, lon], [lat, lon]]."
    )
    center: Point | None = Field(default=None, description="A circle: its centre [lat, lon].")
    radiusM: float | None = Field(default=None, gt=0, le=100_000)


class CheckpointsIn(BaseModel):
    checkpoints: list[CheckpointIn] = Field(max_length=200)


class CheckpointOut(BaseModel):
    name: str
    kind: str
    points: list[tuple[float, float]] | None = None
    center: tuple[float, float] | None = None
    radiusM: float | None = None

    @classmethod
    def of(cls, row: Checkpoint) -> CheckpointOut:
        if row.kind == "line":
            assert row.lat2 is not None and row.lon2 is not None
            return cls(
                name=row.name, kind="line", points=[(row.lat1, row.lon1), (row.lat2, row.lon2)]
            )
        return cls(name=row.name, kind="circle", center=(row.lat1, row.lon1), radiusM=row.radius_m)


class CheckpointsOut(BaseModel):
    checkpoints: list[CheckpointOut]


class SplitOut(BaseModel):
    checkpoint: str
    time: AwareDatetime
    elapsedMs: int


class StandingOut(BaseModel):
    position: int
    userId: int
    username: str
    reached: int
    elapsedMs: int | None
    splits: list[SplitOut]


class SplitsOut(BaseModel):
    eventId: int
    checkpoints: list[str]
    standings: list[StandingOut]


def card(row: LocationFix, username: str) -> dict[str, Any]:
    """A participant's position as the live map and its stream show it."""
    extra = reports.attributes(row)
    return {
        "userId": row.user_id,
        "name": username,
        "tid": extra.get("tid") or default_tid(username),
        "lat": row.latitude,
        "lon": row.longitude,
        "time": row.time.isoformat(),
        "speed": row.speed,
        "heading": row.heading,
        "battery": row.battery,
        "accuracy": row.accuracy,
    }
