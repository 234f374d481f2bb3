"""Time records, starts and stops: stored, appended to the event's log, pushed to judges.

Every accepted time record is appended to the event's log as a ``judge`` record under the source
``judge:<judgeId>`` (seq continuing), every start and stop under ``judging``, so the event's
processor scores manual competitions from the log like any feed (``timing.manual``) and a
replay agrees with the live server. The ``time_records`` rows are the index that makes sending
again harmless: a record whose ``id_registro`` the team holds (or, without one, the same
``tiempo`` and ``timestamp``) is acknowledged and stored nothing twice. At most 15 count per
team; more are answered as ignored and not stored.

A start or stop is pushed to the judges of the competition on the broker (one topic per
judge, the same bytes to each), so it reaches their sockets on any node. The push is best
effort: with the broker away (Redis down) the start or stop still stands (the log is the
truth) and a judge whose socket reconnects is told the state on connecting.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.errors import Conflict, NotFound
from trackside.events import ingest
from trackside.events.ingest import IncomingRecord
from trackside.feeds import judge_records
from trackside.feeds.judge_records import (
    CompetitionStart,
    CompetitionStop,
    JudgeRecord,
    TeamTime,
    TimeVoid,
)
from trackside.judging import messages
from trackside.judging.models import (
    RUNNING,
    SCHEDULED,
    STOPPED,
    Competition,
    Judge,
    Team,
    TimeRecord,
)
from trackside.platform import Platform
from trackside.timing.manual import RUNNERS, TeamStanding

log = logging.getLogger(__name__)

CONTROL_SOURCE = "judging"
MAX_RECORDS = 100  # per request


def judge_source(judge_id: int) -> str:
    return f"judge:{judge_id}"


@dataclass(frozen=True, slots=True)
class Tap:
    """One record as a judge sends it."""

    time_ms: int
    phone_timestamp: str | None = None
    record_id: str | None = None


@dataclass(slots=True)
class Saved:
    """What became of a request's records, in the order sent."""

    stored: list[TimeRecord] = field(default_factory=list)  # new
    duplicates: list[TimeRecord] = field(default_factory=list)  # held already
    ignored: list[Tap] = field(default_factory=list)  # beyond the team's 15

    @property
    def accepted(self) -> list[TimeRecord]:
        return [*self.stored, *self.duplicates]

    def in_order(self, taps: list[Tap]) -> list[TimeRecord]:
        """The records accepted, in the order their taps were sent."""
        return sorted(self.accepted, key=lambda row: self._order.get(id(row), len(taps)))

    _order: dict[int, int] = field(default_factory=dict)  # id(row) -> index of its tap


def derived_id(team_id: int, time_ms: int, phone_timestamp: str) -> str:
    """The id of a record sent without one: the same team, time and timestamp are one record."""
    return str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"trackside:team:{team_id}:{time_ms}:{phone_timestamp}")
    )


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def instant_of(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


async def _append(
    platform: Platform, db: AsyncSession, event_id: int, source: str, records: list[JudgeRecord]
) -> None:
    """Append to the event's log (commits the transaction); caller holds the judging lock."""
    acked = await ingest.acked_seq(db, event_id, source)
    now = time.time_ns() // 1_000_000
    incoming = [
        IncomingRecord(acked + i, now, judge_records.RECORD_TYPE, judge_records.encode(record))
        for i, record in enumerate(records, start=1)
    ]
    await ingest.append(db, platform.event_locks, event_id, source, incoming)


async def save_times(
    platform: Platform,
    db: AsyncSession,
    competition: Competition,
    team: Team,
    judge: Judge,
    taps: list[Tap],
) -> Saved:
    saved = Saved()
    async with platform.judging_locks(competition.event_id):
        await db.refresh(competition)
        if competition.state == SCHEDULED:
            raise Conflict("the competition has not started: times count from its start")
        held = list(
            (await db.scalars(select(TimeRecord).where(TimeRecord.team_id == team.id))).all()
        )
        by_id = {row.record_id: row for row in held}
        by_time = {(row.time_ms, row.phone_timestamp): row for row in held}
        counted = sum(1 for row in held if not row.voided)
        now = datetime.now(UTC)
        for index, tap in enumerate(taps):
            stamp = tap.phone_timestamp or messages.instant(now) or ""
            record_id = tap.record_id or derived_id(team.id, tap.time_ms, stamp)
            known = by_id.get(record_id)
            if known is None and tap.phone_timestamp is not None:
                known = by_time.get((tap.time_ms, tap.phone_timestamp))
            if known is not None:
                if id(known) not in saved._order:
                    saved.duplicates.append(known)
                    saved._order[id(known)] = index
                continue
            if counted >= RUNNERS:
                saved.ignored.append(tap)
                continue
            row = TimeRecord(
                team_id=team.id,
                judge_id=judge.id,
                record_id=record_id,
                time_ms=tap.time_ms,
                phone_timestamp=stamp,
                received_at=now,
                voided=False,
            )
            db.add(row)
            by_id[record_id] = row
            by_time[(tap.time_ms, stamp)] = row
            counted += 1
            saved.stored.append(row)
            saved._order[id(row)] = index
        if saved.stored:
            await db.flush()
            log = [
                TeamTime(
                    competition=competition.id,
                    team=team.id,
                    team_name=team.name,
                    team_number=team.number,
                    record_id=row.record_id,
                    time_ms=row.time_ms,
                    phone_timestamp=row.phone_timestamp,
                    received_at_ms=_ms(row.received_at),
                )
                for row in saved.stored
            ]
            await _append(platform, db, competition.event_id, judge_source(judge.id), log)
    if saved.stored:
        await platform.processors.record_arrived(competition.event_id)
    return saved


async def void(
    platform: Platform, db: AsyncSession, competition: Competition, team: Team, record_id: str
) -> None:
    """Withdraw one of a team's records (a correction): a ``void`` record in the log; the
    stored row stays, marked, so the phone sending it again stores nothing."""
    async with platform.judging_locks(competition.event_id):
        row = await db.scalar(
            select(TimeRecord).where(
                TimeRecord.team_id == team.id,
                TimeRecord.record_id == record_id,
                TimeRecord.voided.is_(False),
            )
        )
        if row is None:
            raise NotFound(f"no record {record_id!r} of team {team.id}")
        row.voided = True
        record = TimeVoid(competition.id, team.id, record_id)
        await _append(platform, db, competition.event_id, CONTROL_SOURCE, [record])
    await platform.processors.record_arrived(competition.event_id)


async def _judges_to_tell(db: AsyncSession, competition: Competition) -> list[int]:
    """The judges of the competition's teams, and the event's judges with no team at all."""
    assigned = select(Team.judge_id).where(Team.judge_id.is_not(None))
    of_teams = select(Team.judge_id).where(
        Team.competition_id == competition.id, Team.judge_id.is_not(None)
    )
    query = (
        select(Judge.id)
        .where(Judge.event_id == competition.event_id, Judge.active.is_(True))
        .where(Judge.id.in_(of_teams) | Judge.id.not_in(assigned))
    )
    return list((await db.scalars(query)).all())


async def _push(
    platform: Platform, db: AsyncSession, competition: Competition, texts: tuple[str, ...]
) -> None:
    judges = await _judges_to_tell(db, competition)
    frames = [text.encode() for text in texts]
    try:
        for judge_id in judges:
            for frame in frames:
                await platform.broker.publish(messages.judge_topic(judge_id), frame)
    except Exception as exc:  # the broker (Redis) away: the change stands, logged already
        log.warning("competition %s: judges not told (%s)", competition.id, exc)


async def _change(
    platform: Platform, db: AsyncSession, competition: Competition, starting: bool
) -> Competition:
    """Start or stop now (the server's clock): logged, then pushed to the judges."""
    before, after = (SCHEDULED, RUNNING) if starting else (RUNNING, STOPPED)
    async with platform.judging_locks(competition.event_id):
        await db.refresh(competition)
        if competition.state != before:
            raise Conflict(f"the competition is {competition.state}, not {before}")
        now = datetime.now(UTC)
        competition.state = after
        record: JudgeRecord
        if starting:
            competition.started_at = now
            record = CompetitionStart(
                competition.id, competition.name, competition.session_id, _ms(now)
            )
        else:
            competition.stopped_at = now
            record = CompetitionStop(competition.id, _ms(now))
        await _append(platform, db, competition.event_id, CONTROL_SOURCE, [record])
    told = messages.started(competition) if starting else messages.stopped(competition)
    await _push(platform, db, competition, told)
    await platform.processors.record_arrived(competition.event_id)
    return competition


async def start(platform: Platform, db: AsyncSession, competition: Competition) -> Competition:
    """Start the competition: every judge of it is told at once."""
    return await _change(platform, db, competition, starting=True)


async def stop(platform: Platform, db: AsyncSession, competition: Competition) -> Competition:
    """Stop the competition: its order is its result."""
    return await _change(platform, db, competition, starting=False)


async def standings(
    platform: Platform, db: AsyncSession, competition: Competition
) -> list[TeamStanding]:
    """The competition's result as the event's processor scores it from the log; teams with no
    record yet follow, unranked by time."""
    processor = await platform.processors.get(competition.event_id)
    scored = processor.scorer.manual.standings(competition.id)
    seen = {line.team for line in scored}
    teams = (
        await db.scalars(
            select(Team).where(Team.competition_id == competition.id).order_by(Team.id)
        )
    ).all()
    names = {team.id: team for team in teams}
    lines = []
    for line in scored:
        team = names.get(line.team)
        if team is not None:  # the current name and bib, not those of the record
            line = TeamStanding(
                line.rank,
                line.team,
                team.name,
                team.number,
                line.runners,
                line.team_time_ms,
                line.records,
            )
        lines.append(line)
    for team in teams:
        if team.id not in seen:
            lines.append(TeamStanding(len(lines) + 1, team.id, team.name, team.number, 0, None, ()))
    return lines
