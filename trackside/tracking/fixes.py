"""A position fix on its way in: the checked values every protocol produces, whatever its wire.

``read_update`` checks one location message (WebSocket or REST body) field by field and says
what is wrong in words; the tracker protocols (``protocols.py``) build ``NewFix`` the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from trackside.store.base import utcnow

MAX_MESSAGE_BYTES = 8 * 1024  # a location message is ~200 bytes; anything this big is wrong

# Sources: where a fix came in.
WEBSOCKET = "ws"
REST = "rest"
OWNTRACKS = "owntracks"
OSMAND = "osmand"

# The device of a fix sent over the WebSocket or REST by the account itself (no tracker).
ACCOUNT_DEVICE = "account"

# Fixes further in the future than this are refused (a clock gone wrong, or ms sent as s).
MAX_FUTURE_S = 24 * 3600


def default_tid(name: str) -> str:
    """A tracker id for the map and OwnTracks when the tracker sent none: the name's last two
    characters, as OwnTracks makes one from a device name."""
    return name[-2:].upper()


class BadFix(ValueError):
    """A message that is not a usable fix; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(slots=True)
class NewFix:
    user_id: int
    device_key: str
    source: str
    time: datetime
    latitude: float
    longitude: float
    accuracy: float | None = None
    altitude: float | None = None
    speed: float | None = None  # m/s
    heading: float | None = None
    battery: float | None = None  # percent
    event_id: int | None = None
    attributes: dict[str, Any] | None = None
    received_at: datetime = field(default_factory=utcnow)

    @property
    def key(self) -> tuple[int, str, datetime]:
        return (self.user_id, self.device_key, self.time)


def number(
    data: dict[str, Any],
    name: str,
    *,
    required: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> float | None:
    """A finite JSON number (not a string, not a boolean) within ``[low, high]``."""
    value = data.get(name)
    if value is None:
        if required:
            raise BadFix(name, "this field is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadFix(name, f"must be a number, not {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise BadFix(name, "must be a finite number")
    if (low is not None and result < low) or (high is not None and result > high):
        raise BadFix(name, f"must be between {low:g} and {high:g}")
    return result


def coordinates(latitude: float, longitude: float) -> None:
    for name, value, limit in (("latitude", latitude, 90.0), ("longitude", longitude, 180.0)):
        if not math.isfinite(value):
            raise BadFix(name, "must be a finite number")
        if not -limit <= value <= limit:
            raise BadFix(name, f"must be between {-limit:g} and {limit:g}")


def epoch(seconds: float, name: str = "timestamp") -> datetime:
    if not math.isfinite(seconds) or seconds < 0:
        raise BadFix(name, "must be a time after 1970")
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadFix(name, "is not a time") from None
    return check_time(moment, name)


def check_time(moment: datetime, name: str = "timestamp") -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a time without a zone is UTC, as trackers mean it
    moment = moment.astimezone(UTC)
    if (moment - utcnow()).total_seconds() > MAX_FUTURE_S:
        raise BadFix(name, "is more than a day in the future")
    return moment


def timestamp(value: Any, name: str = "timestamp") -> datetime:
    """ISO 8601 text, or epoch seconds (milliseconds when ≥ 2^31, as trackers send both)."""
    if isinstance(value, datetime):
        return check_time(value, name)
    if isinstance(value, bool):
        raise BadFix(name, "must be an ISO 8601 time or epoch seconds")
    if isinstance(value, int | float):
        seconds = float(value)
        return epoch(seconds / 1000 if seconds >= 2**31 else seconds, name)
    if isinstance(value, str) and 0 < len(value) <= 64:
        text = value.strip()
        if text.replace(".", "", 1).isdigit():
            return timestamp(float(text), name)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise BadFix(name, f"{value!r} is not an ISO 8601 time") from None
        return check_time(moment, name)
    raise BadFix(name, "must be an ISO 8601 time or epoch seconds")


def read_update(data: Any, user_id: int, source: str) -> NewFix:
    """One location message (``latitude``, ``longitude``; optional ``accuracy``, ``altitude``,
    ``speed``, ``heading``, ``timestamp``, ``event``) as a fix of the account's own device."""
    if not isinstance(data, dict):
        raise BadFix("message", "must be a JSON object")
    latitude = number(data, "latitude", required=True, low=-90, high=90)
    longitude = number(data, "longitude", required=True, low=-180, high=180)
    assert latitude is not None and longitude is not None
    event = data.get("event")
    if event is not None and (
        isinstance(event, bool) or not isinstance(event, int) or not 1 <= event < 2**31
    ):
        raise BadFix("event", "must be an event id")
    when = data.get("timestamp")
    return NewFix(
        user_id=user_id,
        device_key=ACCOUNT_DEVICE,
        source=source,
        time=utcnow() if when is None else timestamp(when),
        latitude=latitude,
        longitude=longitude,
        accuracy=number(data, "accuracy", low=0, high=1e7),
        altitude=number(data, "altitude", low=-1e5, high=1e6),
        speed=number(data, "speed", low=0, high=1e4),
        heading=number(data, "heading", low=0, high=360),
        battery=number(data, "battery", low=0, high=100),
        event_id=event,
    )
