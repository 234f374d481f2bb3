"""Judging's routes: the organizers' API under ``/events/{eventId}`` (organizers and the
event's officials), the judges' app's REST under ``/api/`` and its socket ``/ws/juez/…``."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, WebSocket, status

from trackside.api.deps import CurrentPrincipal, CurrentUser, DbDep, PlatformDep, RunEvent, Writer
from trackside.feeds.clock import format_duration
from trackside.judging import messages, records, socket
from trackside.judging import service as judging
from trackside.judging.models import Competition, Team
from trackside.judging.schemas import (
    CompetenciaAccionOut,
    CompetenciaOut,
    CompetitionIn,
    CompetitionOut,
    EnviarTiemposIn,
    EnviarTiemposOut,
    EquipoOut,
    IgnoradoOut,
    JudgeIn,
    JudgeOut,
    RecordOut,
    RegistroOut,
    ResultsOut,
    TeamIn,
    TeamOut,
    TeamPatch,
    TeamResultOut,
    problems,
)

router = APIRouter()

CompetitionId = Annotated[int, Path(alias="competitionId", ge=1, le=2**31 - 1)]
TeamId = Annotated[int, Path(alias="teamId", ge=1, le=2**31 - 1)]
AppCompetitionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
EVENT = "/events/{eventId}"
ORGANIZERS = problems(401, 403, 404, 422)
TAGS: list[str | object] = ["judging"]
APP_TAGS: list[str | object] = ["judges' app"]


def _competition(row: Competition) -> CompetitionOut:
    return CompetitionOut.model_validate(row)


def _team(row: Team) -> TeamOut:
    return TeamOut.model_validate(row)


# --- organizers ----------------------------------------------------------------------------------


@router.post(
    f"{EVENT}/judges",
    status_code=status.HTTP_201_CREATED,
    response_model=JudgeOut,
    tags=TAGS,
    responses=problems(401, 403, 404, 409, 422),
)
async def add_judge(body: JudgeIn, event: RunEvent, _: Writer, db: DbDep) -> JudgeOut:
    """Make an account a judge of the event: the ``judge`` role and a judge profile, whose id
    is the judges' app's ``juez_id`` (socket path, token claim) and a team's ``judgeId``."""
    made = await judging.add_judge(db, event.id, body.username)
    return JudgeOut(
        id=made.judge.id, username=made.username, event_id=event.id, active=made.judge.active
    )


@router.get(f"{EVENT}/judges", response_model=list[JudgeOut], tags=TAGS, responses=ORGANIZERS)
async def list_judges(event: RunEvent, db: DbDep) -> list[JudgeOut]:
    return [
        JudgeOut(id=v.judge.id, username=v.username, event_id=event.id, active=v.judge.active)
        for v in await judging.list_judges(db, event.id)
    ]


@router.post(
    f"{EVENT}/competitions",
    status_code=status.HTTP_201_CREATED,
    response_model=CompetitionOut,
    tags=TAGS,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_competition(
    body: CompetitionIn, event: RunEvent, _: Writer, db: DbDep
) -> CompetitionOut:
    """A manual-timing competition: a session of the event, timed by judges' phones."""
    row = await judging.create_competition(db, event.id, body.name, body.scheduled_start)
    return _competition(row)


@router.get(
    f"{EVENT}/competitions", response_model=list[CompetitionOut], tags=TAGS, responses=ORGANIZERS
)
async def list_competitions(event: RunEvent, db: DbDep) -> list[CompetitionOut]:
    return [_competition(row) for row in await judging.list_competitions(db, event.id)]


@router.get(
    f"{EVENT}/competitions/{{competitionId}}",
    response_model=CompetitionOut,
    tags=TAGS,
    responses=ORGANIZERS,
)
async def get_competition(
    competition_id: CompetitionId, event: RunEvent, db: DbDep
) -> CompetitionOut:
    return _competition(await judging.get_competition(db, event.id, competition_id))


@router.post(
    f"{EVENT}/competitions/{{competitionId}}/teams",
    status_code=status.HTTP_201_CREATED,
    response_model=TeamOut,
    tags=TAGS,
    responses=problems(401, 403, 404, 409, 422),
)
async def add_team(
    body: TeamIn, competition_id: CompetitionId, event: RunEvent, _: Writer, db: DbDep
) -> TeamOut:
    competition = await judging.get_competition(db, event.id, competition_id)
    return _team(await judging.add_team(db, competition, body.name, body.number, body.judge_id))


@router.get(
    f"{EVENT}/competitions/{{competitionId}}/teams",
    response_model=list[TeamOut],
    tags=TAGS,
    responses=ORGANIZERS,
)
async def list_teams(competition_id: CompetitionId, event: RunEvent, db: DbDep) -> list[TeamOut]:
    competition = await judging.get_competition(db, event.id, competition_id)
    return [_team(row) for row in await judging.list_teams(db, competition.id)]


@router.patch(
    f"{EVENT}/competitions/{{competitionId}}/teams/{{teamId}}",
    response_model=TeamOut,
    tags=TAGS,
    responses=problems(401, 403, 404, 409, 422),
)
async def update_team(
    body: TeamPatch,
    competition_id: CompetitionId,
    team_id: TeamId,
    event: RunEvent,
    _: Writer,
    db: DbDep,
) -> TeamOut:
    """Rename a team, change its bib, or reassign its judge."""
    competition = await judging.get_competition(db, event.id, competition_id)
    team = await judging.get_team(db, competition, team_id)
    return _team(await judging.update_team(db, competition, team, body.changes()))


@router.post(
    f"{EVENT}/competitions/{{competitionId}}/start",
    response_model=CompetitionOut,
    tags=TAGS,
    responses=problems(401, 403, 404, 409, 422),
)
async def start(
    competition_id: CompetitionId, event: RunEvent, _: Writer, db: DbDep, platform: PlatformDep
) -> CompetitionOut:
    """Start now (the server's clock); every judge of the competition is told at once."""
    competition = await judging.get_competition(db, event.id, competition_id)
    return _competition(await records.start(platform, db, competition))


@router.post(
    f"{EVENT}/competitions/{{competitionId}}/stop",
    response_model=CompetitionOut,
    tags=TAGS,
    responses=problems(401, 403, 404, 409, 422),
)
async def stop(
    competition_id: CompetitionId, event: RunEvent, _: Writer, db: DbDep, platform: PlatformDep
) -> CompetitionOut:
    competition = await judging.get_competition(db, event.id, competition_id)
    return _competition(await records.stop(platform, db, competition))


RecordId = Annotated[str, Path(alias="recordId", min_length=1, max_length=64)]


@router.delete(
    f"{EVENT}/competitions/{{competitionId}}/teams/{{teamId}}/records/{{recordId}}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=TAGS,
    responses=problems(401, 403, 404, 422),
)
async def void_record(
    competition_id: CompetitionId,
    team_id: TeamId,
    record_id: RecordId,
    event: RunEvent,
    _: Writer,
    db: DbDep,
    platform: PlatformDep,
) -> Response:
    """Withdraw a team's record (a tap in error): a correction appended to the event's log;
    the team's times and rank are scored again without it."""
    competition = await judging.get_competition(db, event.id, competition_id)
    team = await judging.get_team(db, competition, team_id)
    await records.void(platform, db, competition, team, record_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


CSV_HEADER = ["rank", "number", "team", "runners", "team_time", "team_time_ms", "times"]


@router.get(
    f"{EVENT}/competitions/{{competitionId}}/results",
    response_model=ResultsOut,
    tags=TAGS,
    responses={
        **ORGANIZERS,
        200: {
            "description": "The result (JSON), or as CSV with `?format=csv`.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
    },
)
async def results(
    competition_id: CompetitionId,
    event: RunEvent,
    db: DbDep,
    platform: PlatformDep,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> ResultsOut | Response:
    """Per team, ranked: its records (id, time, phone timestamp, received at), runners in,
    team time (the 15th runner's, else the last's); more runners first, then the lower time."""
    competition = await judging.get_competition(db, event.id, competition_id)
    lines = await records.standings(platform, db, competition)
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
        for line in lines:
            writer.writerow(
                [
                    line.rank,
                    line.number,
                    line.name,
                    line.runners,
                    format_duration(line.team_time_ms),
                    "" if line.team_time_ms is None else line.team_time_ms,
                    " ".join(format_duration(r.time_ms) for r in line.records),
                ]
            )
        filename = f"competition-{competition.id}-results.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return ResultsOut(
        competition_id=competition.id,
        name=competition.name,
        state=competition.state,
        started_at=competition.started_at,
        stopped_at=competition.stopped_at,
        teams=[
            TeamResultOut(
                rank=line.rank,
                team_id=line.team,
                name=line.name,
                number=line.number,
                runners=line.runners,
                team_time_ms=line.team_time_ms,
                records=[
                    RecordOut(
                        id=r.record_id,
                        time_ms=r.time_ms,
                        phone_timestamp=r.phone_timestamp,
                        received_at=records.instant_of(r.received_at_ms),
                    )
                    for r in line.records
                ],
            )
            for line in lines
        ],
    )


# --- the judges' app -----------------------------------------------------------------------------


@router.post(
    "/api/enviar_tiempos/",
    status_code=status.HTTP_201_CREATED,
    response_model=EnviarTiemposOut,
    tags=APP_TAGS,
    responses=problems(400, 401, 403, 404, 409, 422),
)
async def enviar_tiempos(
    body: EnviarTiemposIn, principal: CurrentUser, db: DbDep, platform: PlatformDep
) -> EnviarTiemposOut:
    """A judge's times for their team: 201 with what the team holds from this body. Only 15
    count per team (extras are answered as ignored, not stored); sending a record again (same
    ``id_registro``, or same ``tiempo`` and ``timestamp``) stores nothing twice. 409 before the
    competition has started (times count from its start)."""
    team, judge = await judging.judged_team(db, principal, body.equipo_id)
    competition = await judging.find_competition(db, team.competition_id)
    taps = [records.Tap(r.tiempo, r.timestamp, r.id_registro) for r in body.registros]
    saved = await records.save_times(platform, db, competition, team, judge, taps)
    return EnviarTiemposOut(
        mensaje=f"{len(saved.stored)} registros guardados",
        equipo_id=team.id,
        total_recibidos=len(taps),
        total_guardados=len(saved.stored),
        total_duplicados=len(saved.duplicates),
        total_ignorados=len(saved.ignored),
        registros=[RegistroOut(**messages.registro(row, team)) for row in saved.in_order(taps)],
        ignorados=[
            IgnoradoOut(tiempo=t.time_ms, timestamp=t.phone_timestamp, id_registro=t.record_id)
            for t in saved.ignored
        ],
    )


@router.get(
    "/api/competencias/",
    response_model=list[CompetenciaOut],
    tags=APP_TAGS,
    responses=problems(401),
)
async def competencias(principal: CurrentPrincipal, db: DbDep) -> list[CompetenciaOut]:
    """The competitions of every event the caller may read."""
    rows = await judging.visible_competitions(db, principal)
    return [CompetenciaOut(**messages.competencia(row)) for row in rows]


@router.get(
    "/api/competencias/{competition_id}/",
    response_model=CompetenciaOut,
    tags=APP_TAGS,
    responses=problems(401, 403, 404, 422),
)
async def competencia(
    competition_id: AppCompetitionId, principal: CurrentPrincipal, db: DbDep
) -> CompetenciaOut:
    row = await judging.readable_competition(db, principal, competition_id)
    return CompetenciaOut(**messages.competencia(row))


@router.get("/api/equipos/", response_model=list[EquipoOut], tags=APP_TAGS, responses=problems(401))
async def equipos(principal: CurrentPrincipal, db: DbDep) -> list[EquipoOut]:
    """The caller's teams (those assigned to the caller's judge profiles)."""
    teams = await judging.teams_of_judges(db, await judging.judges_of(db, principal))
    return [EquipoOut(**messages.equipo(team)) for team in teams]


async def _act(
    platform: PlatformDep, db: DbDep, principal: Writer, competition_id: int, starting: bool
) -> CompetenciaAccionOut:
    row = await judging.run_competition(db, principal, competition_id)
    row = await (records.start if starting else records.stop)(platform, db, row)
    return CompetenciaAccionOut(
        mensaje=messages.STARTED if starting else messages.STOPPED,
        competencia=CompetenciaOut(**messages.competencia(row)),
    )


ACTION = {
    "response_model": CompetenciaAccionOut,
    "tags": APP_TAGS,
    "responses": problems(401, 403, 404, 409, 422),
}


@router.post("/api/competencias/{competition_id}/iniciar/", **ACTION)  # type: ignore[arg-type]
async def iniciar(
    competition_id: AppCompetitionId, principal: Writer, db: DbDep, platform: PlatformDep
) -> CompetenciaAccionOut:
    """Start the competition (organizers and officials); its judges are told at once."""
    return await _act(platform, db, principal, competition_id, starting=True)


@router.post("/api/competencias/{competition_id}/detener/", **ACTION)  # type: ignore[arg-type]
async def detener(
    competition_id: AppCompetitionId, principal: Writer, db: DbDep, platform: PlatformDep
) -> CompetenciaAccionOut:
    """Stop the competition (organizers and officials); its judges are told at once."""
    return await _act(platform, db, principal, competition_id, starting=False)


@router.websocket("/ws/juez/{juez_id}/")
async def judge_socket(websocket: WebSocket, juez_id: int) -> None:
    await socket.serve(websocket.app.state.platform, websocket, juez_id)
