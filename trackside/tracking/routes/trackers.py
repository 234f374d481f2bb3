"""The tracker apps people already carry, unchanged: OwnTracks (HTTP mode) and Traccar Client /
OsmAnd. Both authenticate with what the apps can send: OwnTracks HTTP Basic (the username and a
device token, or the account's password), OsmAnd the ``id`` of a registered device.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl

import orjson
import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from trackside.accounts import people as accounts
from trackside.api.deps import DbDep, PlatformDep
from trackside.errors import NotFound
from trackside.platform import Platform
from trackside.tracking import reports, service
from trackside.tracking.fixes import BadFix, NewFix, default_tid
from trackside.tracking.protocols import (
    TrackerFix,
    osmand_json,
    osmand_params,
    owntracks_card,
    owntracks_device,
    owntracks_fix,
)


@asynccontextmanager
async def osmand_port(app: FastAPI) -> AsyncIterator[None]:
    """With ``tracking_osmand_port`` set, the OsmAnd protocol is served at ``/`` on that port
    too (trackers configured for a Traccar server's 5055 work unchanged)."""
    platform: Platform = app.state.platform
    port = platform.settings.tracking_osmand_port
    if port is None:
        yield
        return
    side = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    side.state.platform = platform
    side.add_api_route("/", osmand_post, methods=["GET", "POST"])
    config = uvicorn.Config(
        side, host=platform.settings.host, port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()  # could not bind: say why
            raise RuntimeError(f"the OsmAnd port {port} could not be served")
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await serving


router = APIRouter(tags=["tracking"], lifespan=osmand_port)

OWNTRACKS_DOC = {
    200: {"description": "The friends' last locations: OwnTracks `location` and `card` objects"},
    400: {"description": "Not an OwnTracks message, or a location with bad values"},
    401: {"description": "Basic credentials missing or wrong"},
}
OSMAND_DOC = {
    200: {"description": "Stored (empty body)"},
    400: {"description": "Bad values, or (query/form) an unknown device"},
    404: {"description": "(JSON) an unknown device"},
}


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, sep, password = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (username, password) if sep and username else None


def _challenge(detail: str) -> JSONResponse:
    return JSONResponse(
        {"detail": detail},
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="trackside"'},
    )


async def _owntracks(request: Request, platform: PlatformDep, db: DbDep) -> Response:
    credentials = _basic(request)
    if credentials is None:
        return _challenge("send HTTP Basic credentials: username and device token or password")
    username, password = credentials
    try:
        user = await accounts.by_username(db, username)
    except NotFound:
        return _challenge("wrong username or password")
    device = await service.device_by_token(db, password)
    if device is not None and device.user_id != user.id:
        device = None
    if not user.is_active or (
        device is None and not await platform.passwords.verify(user.password_hash, password)
    ):
        return _challenge("wrong username or password")
    raw = await request.body()
    body = None
    if raw.strip():
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return JSONResponse({"detail": "the body is not JSON"}, status_code=400)
    if body is not None:
        key = (
            service.device_key(device)
            if device is not None
            else owntracks_device(request.headers, body, user.username)
        )
        try:
            fix = owntracks_fix(body, user.id, key)
        except BadFix as exc:
            return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=400)
        if fix is not None:
            await platform.tracking.writer.write(fix)
    return JSONResponse(await _friends(db, user.id))


async def _friends(db: DbDep, user_id: int) -> list[dict]:
    rows = await reports.friends(db, user_id)
    names = await accounts.usernames(db, {row.user_id for row in rows})
    cards: list[dict] = []
    for row in rows:
        name = names.get(row.user_id, str(row.user_id))
        tid = reports.attributes(row).get("tid") or default_tid(name)
        cards.append({"_type": "card", "name": name, "tid": tid})
        cards.append(
            owntracks_card(
                name,
                tid,
                row.latitude,
                row.longitude,
                int(row.time.timestamp()),
                row.accuracy,
                row.speed,
                row.battery,
            )
        )
    return cards


@router.post("/api/owntracks", responses=OWNTRACKS_DOC)
async def owntracks(request: Request, platform: PlatformDep, db: DbDep) -> Response:
    """OwnTracks HTTP mode: a ``_type: location`` message is stored (other types are
    ignored); the reply lists the last locations of everyone tracked in an event with you."""
    return await _owntracks(request, platform, db)


@router.post("/pub", responses=OWNTRACKS_DOC)
async def owntracks_pub(request: Request, platform: PlatformDep, db: DbDep) -> Response:
    """The same as ``/api/owntracks``, at the path the OwnTracks Recorder uses."""
    return await _owntracks(request, platform, db)


async def _read_osmand(request: Request) -> tuple[list[TrackerFix], bool]:
    """The fixes of a request, and whether it came as JSON."""
    if request.query_params:
        return [osmand_params(request.query_params.multi_items())], False
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if "json" in content_type or raw.lstrip()[:1] in (b"{", b"["):
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise BadFix("body", "not JSON") from None
        return osmand_json(body), True
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return [osmand_params(pairs)], False


async def _osmand(request: Request, platform: PlatformDep, db: DbDep) -> Response:
    try:
        read, as_json = await _read_osmand(request)
    except BadFix as exc:
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=400)
    fixes: list[NewFix] = []
    for item in read:
        device = await service.device_by_id_or_token(db, item.device_id)
        if device is None:
            return JSONResponse(
                {"detail": f"unknown device {item.device_id!r}: register it first"},
                status_code=404 if as_json else 400,
            )
        item.fix.user_id = device.user_id
        item.fix.device_key = service.device_key(device)
        fixes.append(item.fix)
    await platform.tracking.writer.write_many(fixes)
    return Response(status_code=200)


@router.get("/api/osmand", responses=OSMAND_DOC)
async def osmand_get(request: Request, platform: PlatformDep, db: DbDep) -> Response:
    """Traccar Client / OsmAnd: one fix in the query (``id``, ``lat``, ``lon``, ``timestamp``,
    ``speed`` in knots, ``bearing``, ``altitude``, ``accuracy``, ``batt`` …)."""
    return await _osmand(request, platform, db)


@router.post("/api/osmand", responses=OSMAND_DOC)
async def osmand_post(request: Request, platform: PlatformDep, db: DbDep) -> Response:
    """Traccar Client / OsmAnd: the query or form parameters, the Traccar Client 9.x JSON
    object, or the SDK's JSON array of flat objects."""
    return await _osmand(request, platform, db)
