"""``/ws/juez/{juez_id}/?token=ACCESS``: the judges' app's socket.

The token's account must own the judge profile ``juez_id`` (an active one): a missing, bad or
expired token closes the socket with 4401, another judge's id with 4403. On connect the judge
gets ``conexion_establecida`` with the competition it is about (a running one of its teams,
else the next scheduled one); if that competition is already running, the start follows at
once (``carrera.iniciada`` and ``competencia_iniciada``, with the real start time), so a judge
who joins late starts the clock where it stands. Starts and stops arrive from the broker (one
topic per judge) as organizers press them.

The app may send ``registrar_tiempo`` and ``registrar_tiempos``; they are stored like
``POST /api/enviar_tiempos/`` (idempotent by ``id_registro``, 15 per team) but, as the app's
server did, only while the competition runs. ``{"tipo": "ping", "t": phoneMs}`` is answered
``{"tipo": "pong", "t": phoneMs, "servidor": serverMs}`` so a page can measure its clock's
offset. Anything else is answered ``{"tipo": "error", "mensaje": …}`` and the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocket, WebSocketDisconnect

from trackside.accounts import principals
from trackside.accounts.tokens import InvalidToken
from trackside.errors import ServiceError
from trackside.judging import messages, records
from trackside.judging import service as judging
from trackside.judging.models import RUNNING, Judge
from trackside.live.broker import BrokerClosed, SubscriberLagged
from trackside.platform import Platform
from trackside.timing.manual import RUNNERS

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
MAX_BATCH = records.MAX_RECORDS
MAX_TIME_MS = 7 * 24 * 3_600_000


def _token(websocket: WebSocket) -> str | None:
    token = websocket.query_params.get("token") or websocket.query_params.get("access_token")
    if token:
        return token
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _judge(platform: Platform, websocket: WebSocket, judge_id: int) -> Judge | int:
    """The judge the socket is for, or the close code to answer with."""
    token = _token(websocket)
    if token is None:
        return CLOSE_UNAUTHORIZED
    async with platform.db_factory() as db:
        try:
            principal = await principals.load_principal(db, await platform.tokens.verify(token))
        except (InvalidToken, ServiceError):
            return CLOSE_UNAUTHORIZED
        judge = await judging.judge_for(db, principal, judge_id)
        return CLOSE_FORBIDDEN if judge is None else judge


async def serve(platform: Platform, websocket: WebSocket, judge_id: int) -> None:
    found = await _judge(platform, websocket, judge_id)
    await websocket.accept()
    if isinstance(found, int):
        await websocket.close(code=found)
        return
    judge = found
    lock = asyncio.Lock()

    async def send(text: str) -> None:
        async with lock:
            await websocket.send_text(text)

    tasks: list[asyncio.Task[None]] = []
    try:
        async with platform.broker.subscribe(messages.judge_topic(judge.id)) as subscription:
            async with platform.db_factory() as db:
                competition = await judging.active_competition(db, judge)
            await send(messages.connected(competition))
            if competition is not None and competition.state == RUNNING:
                for text in messages.started(competition):
                    await send(text)
            tasks = [
                asyncio.create_task(_forward(subscription, send)),
                asyncio.create_task(_listen(platform, websocket, judge, send)),
            ]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except (BrokerClosed, SubscriberLagged, WebSocketDisconnect):
        pass
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(
                asyncio.CancelledError,
                WebSocketDisconnect,
                BrokerClosed,
                SubscriberLagged,
                RuntimeError,
            ):
                await task


async def _forward(subscription: Any, send: Any) -> None:
    async for data in subscription:
        await send(data.decode())


async def _listen(platform: Platform, websocket: WebSocket, judge: Judge, send: Any) -> None:
    while True:
        text = await websocket.receive_text()
        try:
            message = json.loads(text)
        except ValueError:
            await send(messages.error("El mensaje no es JSON válido"))
            continue
        if not isinstance(message, dict):
            await send(messages.error("El mensaje debe ser un objeto JSON"))
            continue
        kind = message.get("tipo") or message.get("type")
        if kind == "ping":
            pong = {"tipo": "pong", "t": message.get("t"), "servidor": time.time_ns() // 1_000_000}
            await send(messages.dump(pong))
        elif kind == "registrar_tiempo":
            async with platform.db_factory() as db:
                await send(await _one(platform, db, judge, message))
        elif kind == "registrar_tiempos":
            async with platform.db_factory() as db:
                await send(await _batch(platform, db, judge, message))
        else:
            await send(messages.error(f"Tipo de mensaje desconocido: {kind!r}"))


class Refused(Exception):
    """A message the socket answers with an error."""


def _int(value: Any, name: str, minimum: int = 0, maximum: int = MAX_TIME_MS) -> int:
    if type(value) is not int or not minimum <= value <= maximum:
        raise Refused(f"'{name}' debe ser un entero entre {minimum} y {maximum}")
    return value


def _tap(item: Any) -> records.Tap:
    if not isinstance(item, dict):
        raise Refused("cada registro debe ser un objeto JSON")
    if "tiempo" not in item:
        raise Refused("falta 'tiempo'")
    time_ms = _int(item["tiempo"], "tiempo")
    for part in ("horas", "minutos", "segundos", "milisegundos"):
        if part in item:
            _int(item[part], part, 0, MAX_TIME_MS)
    record_id = item.get("id_registro")
    if record_id is not None and (not isinstance(record_id, str) or not 0 < len(record_id) <= 64):
        raise Refused("'id_registro' debe ser un texto de 1 a 64 caracteres")
    return records.Tap(time_ms, None, record_id)


async def _team(db: AsyncSession, judge: Judge, message: dict[str, Any]) -> Any:
    if "equipo_id" not in message:
        raise Refused("falta 'equipo_id'")
    team_id = _int(message["equipo_id"], "equipo_id", 1, 2**31 - 1)
    try:
        team = await judging.find_team(db, team_id)
    except ServiceError:
        raise Refused(f"El equipo {team_id} no existe") from None
    if team.judge_id != judge.id:
        raise Refused(f"El equipo {team_id} no está asignado a este juez")
    competition = await judging.find_competition(db, team.competition_id)
    if competition.state != RUNNING:
        raise Refused("La competencia no está en curso")
    return team, competition


async def _one(platform: Platform, db: AsyncSession, judge: Judge, message: dict[str, Any]) -> str:
    try:
        team, competition = await _team(db, judge, message)
        tap = _tap(message)
    except Refused as exc:
        return messages.error(str(exc))
    saved = await records.save_times(platform, db, competition, team, judge, [tap])
    if saved.ignored:
        return messages.error(f"El equipo ya tiene {RUNNERS} registros")
    row = saved.accepted[0]
    return messages.dump({"tipo": "tiempo_registrado", "registro": messages.registro(row, team)})


async def _batch(
    platform: Platform, db: AsyncSession, judge: Judge, message: dict[str, Any]
) -> str:
    try:
        team, competition = await _team(db, judge, message)
        items = message.get("registros")
        if not isinstance(items, list) or not items:
            raise Refused("'registros' debe ser una lista no vacía")
        if len(items) > MAX_BATCH:
            raise Refused(f"'registros' admite a lo sumo {MAX_BATCH} registros")
    except Refused as exc:
        return messages.error(str(exc))
    taps: list[records.Tap] = []
    failed: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            taps.append(_tap(item))
        except Refused as exc:
            failed.append({"indice": index, "registro": item, "error": str(exc)})
    saved = await records.save_times(platform, db, competition, team, judge, taps)
    for tap in saved.ignored:
        failed.append(
            {
                "registro": {"tiempo": tap.time_ms, "id_registro": tap.record_id},
                "error": f"El equipo ya tiene {RUNNERS} registros",
            }
        )
    stored = [messages.registro(row, team) for row in saved.accepted]
    return messages.dump(
        {
            "tipo": "tiempos_registrados_batch",
            "total_enviados": len(items),
            "total_guardados": len(stored),
            "total_fallidos": len(failed),
            "registros_guardados": stored,
            "registros_fallidos": failed,
        }
    )
