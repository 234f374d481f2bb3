"""Judges, competitions and teams: the organizers' use cases, and what the judges' app reads.

A judge is an account with the ``judge`` role for an event and a judge profile (``Judge``)
whose id is the app's ``juez_id``. A competition is a manual-timing session of an event: making
one adds its row to the event's sessions. Teams belong to a competition, each timed by the
judge assigned to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.accounts import people, roles
from trackside.accounts.roles import Principal, Role
from trackside.errors import Conflict, Forbidden, Invalid, NotFound
from trackside.events import entries as event_sessions
from trackside.events import service as events
from trackside.judging.models import RUNNING, SCHEDULED, Competition, Judge, Team
from trackside.store import rows as store_rows

MANUAL_SESSION_TYPE = "race"


@dataclass(frozen=True, slots=True)
class JudgeView:
    judge: Judge
    username: str


# --- judges ---------------------------------------------------------------------------------


async def add_judge(db: AsyncSession, event_id: int, username: str) -> JudgeView:
    """Make the account a judge of the event (the ``judge`` role and a judge profile); asking
    again answers the same profile."""
    try:
        user = await people.by_username(db, username.strip())
    except NotFound:
        raise Invalid("username", f"no account {username!r}") from None
    await people.grant(db, user, Role.JUDGE, event_id=event_id)
    judge = await db.scalar(
        select(Judge).where(Judge.event_id == event_id, Judge.user_id == user.id)
    )
    if judge is None:
        judge = Judge(event_id=event_id, user_id=user.id, active=True)
        db.add(judge)
    judge.active = True
    await store_rows.commit(db, "the account is already a judge of the event")
    return JudgeView(judge, user.username)


async def list_judges(db: AsyncSession, event_id: int) -> list[JudgeView]:
    judges = (
        await db.scalars(select(Judge).where(Judge.event_id == event_id).order_by(Judge.id))
    ).all()
    out = []
    for judge in judges:
        user = await people.get(db, judge.user_id)
        out.append(JudgeView(judge, user.username))
    return out


async def find_judge(db: AsyncSession, judge_id: int) -> Judge:
    judge = await db.get(Judge, judge_id)
    if judge is None:
        raise NotFound(f"no judge {judge_id}")
    return judge


async def judge_for(db: AsyncSession, principal: Principal, judge_id: int) -> Judge | None:
    """The judge profile ``judge_id`` when the caller's account owns it and it is active."""
    if not principal.is_user:
        return None
    judge = await db.get(Judge, judge_id)
    if judge is None or judge.user_id != principal.id or not judge.active:
        return None
    return judge


async def judges_of(db: AsyncSession, principal: Principal) -> list[Judge]:
    """Every active judge profile of the caller's account."""
    if not principal.is_user:
        return []
    return list(
        (
            await db.scalars(
                select(Judge).where(Judge.user_id == principal.id, Judge.active.is_(True))
            )
        ).all()
    )


# --- competitions ---------------------------------------------------------------------------


async def create_competition(
    db: AsyncSession, event_id: int, name: str, scheduled_start: datetime
) -> Competition:
    session_id = await event_sessions.add_session(
        db, event_id, name=name, type=MANUAL_SESSION_TYPE, start_time=scheduled_start
    )
    competition = Competition(
        event_id=event_id,
        session_id=session_id,
        name=name,
        scheduled_start=scheduled_start,
        state=SCHEDULED,
    )
    db.add(competition)
    await store_rows.commit(db, "the competition clashes with a stored record")
    return competition


async def list_competitions(db: AsyncSession, event_id: int) -> list[Competition]:
    query = (
        select(Competition)
        .where(Competition.event_id == event_id)
        .order_by(Competition.scheduled_start, Competition.id)
    )
    return list((await db.scalars(query)).all())


async def get_competition(db: AsyncSession, event_id: int, competition_id: int) -> Competition:
    competition = await find_competition(db, competition_id)
    if competition.event_id != event_id:
        raise NotFound(f"no competition {competition_id} in event {event_id}")
    return competition


async def find_competition(db: AsyncSession, competition_id: int) -> Competition:
    competition = await db.get(Competition, competition_id)
    if competition is None:
        raise NotFound(f"no competition {competition_id}")
    return competition


async def competitions_for_judges(db: AsyncSession, judges: list[Judge]) -> list[Competition]:
    """The competitions the judges have a team in, or else of their events."""
    if not judges:
        return []
    ids = [j.id for j in judges]
    events = [j.event_id for j in judges]
    with_teams = select(Team.competition_id).where(Team.judge_id.in_(ids))
    query = (
        select(Competition)
        .where(Competition.event_id.in_(events))
        .where(Competition.id.in_(with_teams))
        .order_by(Competition.scheduled_start, Competition.id)
    )
    found = list((await db.scalars(query)).all())
    if found:
        return found
    query = (
        select(Competition)
        .where(Competition.event_id.in_(events))
        .order_by(Competition.scheduled_start, Competition.id)
    )
    return list((await db.scalars(query)).all())


async def active_competition(db: AsyncSession, judge: Judge) -> Competition | None:
    """The competition a judge's socket is about: a running one of the judge's teams, else the
    next scheduled one, else the latest."""
    found = await competitions_for_judges(db, [judge])
    for state in (RUNNING, SCHEDULED):
        chosen = [c for c in found if c.state == state]
        if chosen:
            return chosen[0]
    return found[-1] if found else None


# --- teams ----------------------------------------------------------------------------------


async def _check_judge(db: AsyncSession, event_id: int, judge_id: int | None) -> None:
    if judge_id is None:
        return
    judge = await db.get(Judge, judge_id)
    if judge is None or judge.event_id != event_id:
        raise Invalid("judgeId", f"no judge {judge_id} in event {event_id}")


async def _check_number(db: AsyncSession, competition_id: int, number: str) -> None:
    clash = await db.scalar(
        select(func.count())
        .select_from(Team)
        .where(Team.competition_id == competition_id, Team.number == number)
    )
    if clash:
        raise Conflict(f"the competition already has a team with number {number!r}")


async def add_team(
    db: AsyncSession, competition: Competition, name: str, number: str, judge_id: int | None
) -> Team:
    await _check_judge(db, competition.event_id, judge_id)
    await _check_number(db, competition.id, number)
    team = Team(competition_id=competition.id, name=name, number=number, judge_id=judge_id)
    db.add(team)
    await store_rows.commit(db, "the team clashes with a stored record")
    return team


async def list_teams(db: AsyncSession, competition_id: int) -> list[Team]:
    query = select(Team).where(Team.competition_id == competition_id).order_by(Team.id)
    return list((await db.scalars(query)).all())


async def get_team(db: AsyncSession, competition: Competition, team_id: int) -> Team:
    team = await db.get(Team, team_id)
    if team is None or team.competition_id != competition.id:
        raise NotFound(f"no team {team_id} in competition {competition.id}")
    return team


async def find_team(db: AsyncSession, team_id: int) -> Team:
    team = await db.get(Team, team_id)
    if team is None:
        raise NotFound(f"no team {team_id}")
    return team


async def update_team(
    db: AsyncSession, competition: Competition, team: Team, changes: dict[str, object]
) -> Team:
    if "judge_id" in changes:
        await _check_judge(db, competition.event_id, changes["judge_id"])  # type: ignore[arg-type]
    if "number" in changes and changes["number"] != team.number:
        await _check_number(db, competition.id, str(changes["number"]))
    store_rows.apply(team, changes)
    await store_rows.commit(db, "the team clashes with a stored record")
    return team


async def teams_of_judges(db: AsyncSession, judges: list[Judge]) -> list[Team]:
    if not judges:
        return []
    query = select(Team).where(Team.judge_id.in_([j.id for j in judges])).order_by(Team.id)
    return list((await db.scalars(query)).all())


async def judged_team(db: AsyncSession, principal: Principal, team_id: int) -> tuple[Team, Judge]:
    """The team, when the caller is its assigned judge: 404 unknown team, 403 another's."""
    team = await db.get(Team, team_id)
    if team is None:
        raise NotFound(f"no team {team_id}")
    judge = await db.get(Judge, team.judge_id) if team.judge_id is not None else None
    if judge is None or not principal.is_user or judge.user_id != principal.id or not judge.active:
        raise Forbidden(f"team {team_id} is not assigned to you")
    return team, judge


async def visible_competitions(db: AsyncSession, principal: Principal) -> list[Competition]:
    """The competitions of every event the caller may read (a judge's among them)."""
    visible = events.visible_events_query(principal).order_by(None).subquery()
    query = (
        select(Competition)
        .where(Competition.event_id.in_(select(visible.c.id)))
        .order_by(Competition.scheduled_start, Competition.id)
    )
    return list((await db.scalars(query)).all())


async def readable_competition(
    db: AsyncSession, principal: Principal, competition_id: int
) -> Competition:
    competition = await find_competition(db, competition_id)
    event = await events.get_event(db, competition.event_id)
    if not roles.can_read_event(principal, events.scope(event)):
        raise Forbidden("the competition's event is private")
    return competition


async def run_competition(
    db: AsyncSession, principal: Principal, competition_id: int
) -> Competition:
    """The competition, when the caller may start and stop it (organizers and officials)."""
    competition = await find_competition(db, competition_id)
    event = await events.get_event(db, competition.event_id)
    if not roles.can_run_event(principal, events.scope(event)):
        raise Forbidden("only the event's organizers and officials start and stop competitions")
    return competition
