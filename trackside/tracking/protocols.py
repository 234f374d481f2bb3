"""The tracker apps' wires, read into fixes: OwnTracks HTTP, and Traccar Client / OsmAnd in
its three body forms (query or form parameters, a JSON object, a JSON array of flat objects).

Units become trackside's: speed in m/s (OwnTracks sends km/h, OsmAnd knots, Traccar's JSON
m/s), battery in percent, every time UTC. What a tracker sends beyond the position is kept as
the fix's attributes. Nothing here reads the database: the routes find the device.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trackside.store.base import utcnow
from trackside.tracking.fixes import OSMAND, OWNTRACKS, BadFix, NewFix, coordinates, number
from trackside.tracking.fixes import timestamp as read_time

KMH = 1 / 3.6
KNOT = 0.514444

# --- OwnTracks -------------------------------------------------------------------------------

OWNTRACKS_KEPT = ("tid", "bs", "t", "conn", "topic", "created_at", "vac", "p", "m", "SSID")


def owntracks_fix(body: Any, user_id: int, device_key: str) -> NewFix | None:
    """A ``_type: location`` message as a fix; None for the other types (ignored)."""
    if not isinstance(body, dict):
        raise BadFix("_type", "an OwnTracks message is a JSON object")
    if body.get("_type") != "location":
        return None
    latitude = number(body, "lat", required=True, low=-90, high=90)
    longitude = number(body, "lon", required=True, low=-180, high=180)
    seconds = number(body, "tst", required=True, low=0)
    assert latitude is not None and longitude is not None and seconds is not None
    vel = number(body, "vel", low=0, high=1e5)
    return NewFix(
        user_id=user_id,
        device_key=device_key,
        source=OWNTRACKS,
        time=read_time(seconds, "tst"),
        latitude=latitude,
        longitude=longitude,
        accuracy=number(body, "acc", low=0),
        altitude=number(body, "alt"),
        speed=None if vel is None else vel * KMH,
        heading=number(body, "cog", low=0, high=360),
        battery=number(body, "batt", low=0, high=100),
        attributes={k: body[k] for k in OWNTRACKS_KEPT if k in body} or None,
    )


def owntracks_device(headers: Mapping[str, str], body: Any, username: str) -> str:
    """The device name: ``X-Limit-D``, else the topic's last part, else the tracker id."""
    device = headers.get("x-limit-d")
    if not device and isinstance(body, dict):
        topic = body.get("topic")
        parts = topic.split("/") if isinstance(topic, str) else []
        if len(parts) >= 3 and parts[1] == username:
            device = parts[2]
        elif isinstance(body.get("tid"), str):
            device = body["tid"]
    return f"owntracks:{(device or 'phone')[:80]}"


def owntracks_card(
    username: str,
    tid: str,
    lat: float,
    lon: float,
    tst: int,
    acc: float | None,
    vel: float | None,
    batt: float | None,
) -> dict[str, Any]:
    """A friend's last location as the OwnTracks app draws it."""
    card: dict[str, Any] = {
        "_type": "location",
        "tid": tid,
        "lat": lat,
        "lon": lon,
        "tst": tst,
        "topic": f"owntracks/{username}/trackside",
    }
    if acc:
        card["acc"] = round(acc)
    if vel:
        card["vel"] = round(vel / KMH)
    if batt is not None:
        card["batt"] = round(batt)
    return card


# --- Traccar Client / OsmAnd -----------------------------------------------------------------


@dataclass(slots=True)
class TrackerFix:
    """A fix read from the wire, before its device is found."""

    device_id: str
    fix: NewFix


OSMAND_POSITION = {
    "id",
    "deviceid",
    "lat",
    "lon",
    "location",
    "timestamp",
    "speed",
    "bearing",
    "heading",
    "altitude",
    "accuracy",
    "batt",
}
MAX_ATTRIBUTE = 200


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _float(params: Mapping[str, Any], name: str) -> float | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadFix(name, "must be a number")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise BadFix(name, f"{value!r} is not a number") from None
    if not math.isfinite(result):
        raise BadFix(name, "must be a finite number")
    return result


def osmand_params(pairs: Iterable[tuple[str, Any]]) -> TrackerFix:
    """One fix from query or form parameters (or one flat object of the JSON array form)."""
    params: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for name, value in pairs:
        if name in ("cell", "wifi"):  # repeatable
            attributes.setdefault(name, []).append(_text(value))
        elif name not in params:
            params[name] = value
    device_id = _text(params.get("id") or params.get("deviceid"))
    if not device_id:
        raise BadFix("id", "the device id (id or deviceid) is required")
    latitude, longitude = _float(params, "lat"), _float(params, "lon")
    if (latitude is None or longitude is None) and params.get("location"):
        parts = str(params["location"]).split(",")
        if len(parts) != 2:
            raise BadFix("location", "must be lat,lon")
        latitude = _float({"lat": parts[0]}, "lat")
        longitude = _float({"lon": parts[1]}, "lon")
    if latitude is None:
        raise BadFix("lat", "this field is required")
    if longitude is None:
        raise BadFix("lon", "this field is required")
    coordinates(latitude, longitude)
    when = params.get("timestamp")
    knots = _float(params, "speed")
    heading = _float(params, "bearing")
    if heading is None:
        heading = _float(params, "heading")
    for name, value in params.items():
        if name not in OSMAND_POSITION:
            attributes[name] = _text(value)[:MAX_ATTRIBUTE] if value is not None else None
    fix = NewFix(
        user_id=0,
        device_key="",
        source=OSMAND,
        time=utcnow() if when in (None, "") else read_time(when),
        latitude=latitude,
        longitude=longitude,
        accuracy=_float(params, "accuracy"),
        altitude=_float(params, "altitude"),
        speed=None if knots is None else knots * KNOT,
        heading=heading if heading is not None and 0 <= heading <= 360 else None,
        battery=_float(params, "batt"),
        attributes=attributes or None,
    )
    return TrackerFix(device_id, fix)


def osmand_json_object(body: dict[str, Any]) -> TrackerFix:
    """Traccar Client 9.x: ``{"location": {…, "coords": {…}, "battery": {…}}, "device_id"}``."""
    device_id = _text(body.get("device_id"))
    if not device_id:
        raise BadFix("device_id", "the device id is required")
    location = body.get("location")
    if not isinstance(location, dict):
        raise BadFix("location", "must be an object")
    coords = location.get("coords")
    if not isinstance(coords, dict):
        raise BadFix("location.coords", "must be an object")
    latitude = number(coords, "latitude", required=True, low=-90, high=90)
    longitude = number(coords, "longitude", required=True, low=-180, high=180)
    assert latitude is not None and longitude is not None
    heading = number(coords, "heading")
    speed = number(coords, "speed")
    battery = location.get("battery") if isinstance(location.get("battery"), dict) else {}
    level = number(battery, "level")
    attributes: dict[str, Any] = {}
    for name in ("is_moving", "odometer", "event"):
        if name in location:
            attributes[name] = location[name]
    if "is_charging" in battery:
        attributes["charge"] = battery["is_charging"]
    activity = location.get("activity")
    if isinstance(activity, dict) and "type" in activity:
        attributes["activity"] = activity["type"]
    when = location.get("timestamp")
    fix = NewFix(
        user_id=0,
        device_key="",
        source=OSMAND,
        time=utcnow() if when is None else read_time(when),
        latitude=latitude,
        longitude=longitude,
        accuracy=number(coords, "accuracy", low=0),
        altitude=number(coords, "altitude"),
        speed=speed if speed is not None and speed >= 0 else None,
        heading=heading if heading is not None and 0 <= heading <= 360 else None,  # -1: unknown
        battery=level * 100 if level is not None and 0 <= level <= 1 else None,
        attributes=attributes or None,
    )
    return TrackerFix(device_id, fix)


def osmand_json(body: Any) -> list[TrackerFix]:
    """A JSON body: the 9.x object, or the SDK's array of flat objects."""
    if isinstance(body, dict):
        return [osmand_json_object(body)]
    if isinstance(body, list) and body and all(isinstance(item, dict) for item in body):
        return [osmand_params(item.items()) for item in body]
    raise BadFix("body", "expected a location object or an array of them")
