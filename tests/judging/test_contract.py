"""The judges' app's contract against a real ``trackside serve``: the reference's Python
``websockets`` client shape and its curl calls, unchanged, message for message."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import jwt
import pytest
import websockets

from tests.judging.helpers import judged_competition
from tests.relay.stack import Server, environment

TIMEOUT = 10


async def _recv(ws: websockets.ClientConnection) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


@pytest.fixture
async def server(tmp_path: Path):
    running = Server(environment(tmp_path / "data"), tmp_path / "server.log")
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def test_the_app_contract_against_a_real_server(server: Server) -> None:
    setup = await judged_competition(server, ["ana", "beto"])
    ana, beto = setup.judges["ana"], setup.judges["beto"]
    token = setup.tokens["ana"]
    # The access token carries the judge profile the socket is opened with.
    assert jwt.decode(token, options={"verify_signature": False})["juez_id"] == ana
    ws_base = server.url.replace("http://", "ws://")
    url = f"{ws_base}/ws/juez/{ana}/?token={token}"

    # Refusals close the socket: a bad token 4401, another judge's id 4403.
    for bad_url, code in (
        (f"{ws_base}/ws/juez/{ana}/?token=not-a-token", 4401),
        (f"{ws_base}/ws/juez/{ana}/", 4401),
        (f"{ws_base}/ws/juez/{beto}/?token={token}", 4403),
    ):
        async with websockets.connect(bad_url) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == code

    async with websockets.connect(url) as ws:
        hello = await _recv(ws)
        assert hello["tipo"] == "conexion_establecida"
        assert hello["mensaje"] == "Conectado exitosamente"
        assert hello["competencia"]["id"] == setup.competition_id
        assert hello["competencia"]["en_curso"] is False
        assert hello["competencia"]["fecha_hora"] == "2025-11-11T12:00:00.000Z"

        # Before the start a time over the socket is refused, and the socket stays open.
        early = {"tipo": "registrar_tiempo", "equipo_id": setup.teams["ana"], "tiempo": 1}
        await ws.send(json.dumps(early))
        assert (await _recv(ws))["tipo"] == "error"

        async with httpx.AsyncClient(base_url=server.url) as http:
            judge_tries = await http.post(
                f"/api/competencias/{setup.competition_id}/iniciar/",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert judge_tries.status_code == 403
            started = await http.post(
                f"/api/competencias/{setup.competition_id}/iniciar/", headers=setup.organizer
            )
            assert started.status_code == 200, started.text
        seed_start = await _recv(ws)
        assert seed_start["type"] == "carrera.iniciada"
        assert seed_start["data"]["competencia_id"] == setup.competition_id
        assert seed_start["data"]["hora_inicio"].endswith("Z")
        newer = await _recv(ws)
        assert newer["tipo"] == "competencia_iniciada"
        assert newer["competencia"] == {
            **newer["competencia"],
            "id": setup.competition_id,
            "en_curso": True,
        }

        # The newer app's messages and their replies.
        one = {
            "tipo": "registrar_tiempo",
            "equipo_id": setup.teams["ana"],
            "tiempo": 3_723_004,
            "horas": 1,
            "minutos": 2,
            "segundos": 3,
            "milisegundos": 4,
            "id_registro": "0b5c2f7e-0000-4000-8000-000000000001",
        }
        await ws.send(json.dumps(one))
        stored = await _recv(ws)
        assert stored["tipo"] == "tiempo_registrado"
        assert {k: stored["registro"][k] for k in one if k != "tipo"} == {
            k: v for k, v in one.items() if k != "tipo"
        }
        assert stored["registro"]["equipo_dorsal"] == "1"
        batch = {
            "tipo": "registrar_tiempos",
            "equipo_id": setup.teams["ana"],
            "registros": [{"tiempo": 3_800_000}, {"tiempo": -5}, {"minutos": 1}],
        }
        await ws.send(json.dumps(batch))
        answer = await _recv(ws)
        assert answer["tipo"] == "tiempos_registrados_batch"
        assert (answer["total_enviados"], answer["total_guardados"], answer["total_fallidos"]) == (
            3,
            1,
            2,
        )
        assert [r["tiempo"] for r in answer["registros_guardados"]] == [3_800_000]
        for wrong in ("not json", "[1]", json.dumps({"tipo": "bailar"}),
                      json.dumps({"tipo": "registrar_tiempo", "equipo_id": setup.teams["beto"],
                                  "tiempo": 5})):  # fmt: skip
            await ws.send(wrong)
            assert (await _recv(ws))["tipo"] == "error"

        # A judge who connects after the start gets it at once, with the real start time.
        beto_url = f"{ws_base}/ws/juez/{beto}/?token={setup.tokens['beto']}"
        async with websockets.connect(beto_url) as late:
            assert (await _recv(late))["competencia"]["en_curso"] is True
            late_start = await _recv(late)
            assert late_start == seed_start
            assert (await _recv(late))["tipo"] == "competencia_iniciada"

        # The seed's REST, curl-shaped.
        async with httpx.AsyncClient(base_url=server.url) as http:
            bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            body = (
                f'{{ "equipo_id": {setup.teams["ana"]}, "registros": [ {{ "timestamp": '
                '"2025-11-11T12:00:00.000Z", "tiempo": 12345 } ] }'
            )
            sent = await http.post("/api/enviar_tiempos/", content=body, headers=bearer)
            assert sent.status_code == 201, sent.text
            assert sent.json()["total_guardados"] == 1
            again = await http.post("/api/enviar_tiempos/", content=body, headers=bearer)
            assert again.status_code == 201
            assert (again.json()["total_guardados"], again.json()["total_duplicados"]) == (0, 1)
            other = body.replace(str(setup.teams["ana"]), str(setup.teams["beto"]), 1)
            assert (
                await http.post("/api/enviar_tiempos/", content=other, headers=bearer)
            ).status_code == 403
            unknown = body.replace(str(setup.teams["ana"]), "999999", 1)
            assert (
                await http.post("/api/enviar_tiempos/", content=unknown, headers=bearer)
            ).status_code == 404
            mine = await http.get("/api/equipos/", headers=bearer)
            assert [team["id"] for team in mine.json()] == [setup.teams["ana"]]
            listed = await http.get("/api/competencias/", headers=bearer)
            assert [c["id"] for c in listed.json()] == [setup.competition_id]

            stopped = await http.post(
                f"/api/competencias/{setup.competition_id}/detener/", headers=setup.organizer
            )
            assert stopped.status_code == 200, stopped.text
        assert (await _recv(ws))["type"] == "carrera.detenida"
        assert (await _recv(ws))["tipo"] == "competencia_detenida"

    async with httpx.AsyncClient(base_url=server.url) as http:
        results = await http.get(
            f"/events/{setup.event_id}/competitions/{setup.competition_id}/results",
            headers=setup.organizer,
        )
        assert results.status_code == 200, results.text
        teams = results.json()["teams"]
        assert [(t["teamId"], t["runners"], t["teamTimeMs"], t["rank"]) for t in teams] == [
            (setup.teams["ana"], 3, 3_800_000, 1),
            (setup.teams["beto"], 0, None, 2),
        ]
        # The live board shows the competition as a session of the event, scored from the log.
        live = (await http.get(f"/events/{setup.event_id}/live")).json()
        session = live["sessions"][-1]
        assert session["name"] == "5K por equipos"
        assert session["flag"] == "finish"
        assert [(car["number"], car["laps"], car["total_time_ms"]) for car in session["cars"]] == [
            ("1", 3, 3_800_000)
        ]
