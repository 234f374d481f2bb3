"""The judges' app's messages, as its clients expect them (field names are the app's).

Socket messages are JSON as the app's original server wrote them (``json.dumps`` defaults:
``", "`` and ``": "`` separators, non-ASCII escaped); each is serialized once and the same
bytes go to every judge. Instants are ISO 8601 in UTC with milliseconds and ``Z``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from trackside.judging.models import RUNNING, Competition, Team, TimeRecord

CONNECTED = "Conectado exitosamente"
STARTED = "La competencia ha iniciado"
STOPPED = "La competencia ha sido detenida"


def judge_topic(judge_id: int) -> str:
    """The broker topic a judge's sockets listen on."""
    return f"judging:judge:{judge_id}"


def instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dump(message: dict[str, Any]) -> str:
    return json.dumps(message)


def split(time_ms: int) -> dict[str, int]:
    """Milliseconds as the app's ``horas``, ``minutos``, ``segundos``, ``milisegundos``."""
    seconds, millis = divmod(time_ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return {"horas": hours, "minutos": minutes, "segundos": seconds, "milisegundos": millis}


def competencia(competition: Competition) -> dict[str, Any]:
    """A competition as the app reads it (REST and the socket's state)."""
    return {
        "id": competition.id,
        "nombre": competition.name,
        "fecha_hora": instant(competition.scheduled_start),
        "en_curso": competition.state == RUNNING,
        "estado": competition.state,
        "fecha_inicio": instant(competition.started_at),
        "fecha_fin": instant(competition.stopped_at),
    }


def equipo(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "nombre": team.name,
        "dorsal": team.number,
        "competencia": team.competition_id,
        "competencia_id": team.competition_id,
        "juez_asignado": team.judge_id,
    }


def registro(record: TimeRecord, team: Team) -> dict[str, Any]:
    return {
        "id_registro": record.record_id,
        "equipo_id": team.id,
        "equipo_nombre": team.name,
        "equipo_dorsal": team.number,
        "tiempo": record.time_ms,
        **split(record.time_ms),
        "timestamp": record.phone_timestamp,
    }


def connected(competition: Competition | None) -> str:
    return dump(
        {
            "tipo": "conexion_establecida",
            "mensaje": CONNECTED,
            "competencia": None if competition is None else competencia(competition),
        }
    )


def started(competition: Competition) -> tuple[str, str]:
    """The seed's ``carrera.iniciada`` and the newer ``competencia_iniciada``."""
    seed = {
        "type": "carrera.iniciada",
        "data": {
            "competencia_id": competition.id,
            "nombre": competition.name,
            "hora_inicio": instant(competition.started_at),
            "fecha_hora": instant(competition.scheduled_start),
            "en_curso": True,
        },
    }
    newer = {
        "tipo": "competencia_iniciada",
        "mensaje": STARTED,
        "competencia": {
            "id": competition.id,
            "nombre": competition.name,
            "en_curso": True,
            "fecha_hora": instant(competition.scheduled_start),
            "fecha_inicio": instant(competition.started_at),
        },
    }
    return dump(seed), dump(newer)


def stopped(competition: Competition) -> tuple[str, str]:
    seed = {
        "type": "carrera.detenida",
        "data": {
            "competencia_id": competition.id,
            "nombre": competition.name,
            "hora_inicio": instant(competition.started_at),
            "hora_fin": instant(competition.stopped_at),
            "en_curso": False,
        },
    }
    newer = {
        "tipo": "competencia_detenida",
        "mensaje": STOPPED,
        "competencia": {
            "id": competition.id,
            "nombre": competition.name,
            "en_curso": False,
            "fecha_inicio": instant(competition.started_at),
            "fecha_fin": instant(competition.stopped_at),
        },
    }
    return dump(seed), dump(newer)


def error(message: str) -> str:
    return dump({"tipo": "error", "mensaje": message})
