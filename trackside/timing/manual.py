"""Manual timing: a competition scored from judges' taps. Pure.

Each competition (``feeds.judge_records``) is one session of the engine, appended to its
sessions but never its current one, so an RMonitor feed of the same event goes on beside it.
A team is a car of that session: its number is the team's bib, its name the team's; each
runner in is a lap whose total is the runner's time since the start. At most ``RUNNERS``
runners count per team, in the order their records arrived.

- runners in: the laps; the team's time: the ``RUNNERS``-th runner's time, or the last
  runner's when fewer are in;
- rank: more runners in first, then the lower team time (the engine's race order without a
  feed position), the team first entered winning a tie.

The session's flag is green from the start record and ``finish`` from the stop; a stopped
competition's order is its result. A void withdraws one time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trackside.feeds.judge_records import (
    CompetitionStart,
    CompetitionStop,
    JudgeRecord,
    TeamTime,
    TimeVoid,
)
from trackside.timing.engine import RaceEngine
from trackside.timing.laps import Lap
from trackside.timing.session import RACE, Session

RUNNERS = 15  # runners of a team that count
FLAG_RUNNING = "green"
FLAG_STOPPED = "finish"


@dataclass(slots=True)
class TeamTimes:
    team: int
    name: str
    number: str
    records: dict[str, TeamTime] = field(default_factory=dict)  # by record id, arrival order

    def counted_records(self) -> list[TeamTime]:
        """The records that count (the first ``RUNNERS`` to arrive), earliest time first."""
        counted = list(self.records.values())[:RUNNERS]
        return sorted(counted, key=lambda r: (r.time_ms, r.received_at_ms))

    def counted(self) -> list[int]:
        """The counted runners' times, earliest first."""
        return [record.time_ms for record in self.counted_records()]


@dataclass(frozen=True, slots=True)
class TeamStanding:
    """One line of a competition's result."""

    rank: int
    team: int
    name: str
    number: str
    runners: int
    team_time_ms: int | None
    records: tuple[TeamTime, ...]


def rank_key(runners: int, team_time_ms: int | None, team: int) -> tuple[int, int, int]:
    """More runners in first, then the lower team time, then the team entered first."""
    return (-runners, team_time_ms if team_time_ms is not None else 0, team)


def team_time(times: list[int]) -> int | None:
    """The team's time: the last counted runner's (the 15th when all are in)."""
    counted = sorted(times)[:RUNNERS]
    return counted[-1] if counted else None


@dataclass(slots=True)
class Competition:
    index: int  # the session's index in the engine
    session: Session
    started_at_ms: int | None = None
    stopped_at_ms: int | None = None
    teams: dict[int, TeamTimes] = field(default_factory=dict)


class ManualTiming:
    """The competitions of one event, each a session of the event's engine."""

    def __init__(self, engine: RaceEngine) -> None:
        self.engine = engine
        self.competitions: dict[int, Competition] = {}
        self.records = 0

    def apply(self, record: JudgeRecord) -> int:
        """Apply one record; the index of the session it changed."""
        self.records += 1
        competition = self._competition(record.competition, record)
        session = competition.session
        if isinstance(record, CompetitionStart):
            competition.started_at_ms = record.started_at_ms
            competition.stopped_at_ms = None
            session.ended = False
            session.rename(record.name)
            session.type = RACE
            self._flag(session, FLAG_RUNNING)
        elif isinstance(record, CompetitionStop):
            competition.stopped_at_ms = record.stopped_at_ms
            session.ended = True
            self._flag(session, FLAG_STOPPED)
        elif isinstance(record, TeamTime):
            team = competition.teams.get(record.team)
            if team is None:
                team = competition.teams[record.team] = TeamTimes(
                    record.team, record.team_name, record.team_number
                )
            team.records.setdefault(record.record_id, record)
            self._score(competition, team)
        elif isinstance(record, TimeVoid):
            team = competition.teams.get(record.team)
            if team is not None and team.records.pop(record.record_id, None) is not None:
                self._score(competition, team)
        session.records += 1
        return competition.index

    def standings(self, competition_id: int) -> list[TeamStanding]:
        """The competition's teams with a record, ranked."""
        competition = self.competitions.get(competition_id)
        if competition is None:
            return []
        lines = []
        for team in competition.teams.values():
            records = tuple(team.counted_records())
            times = [record.time_ms for record in records]
            lines.append((len(times), team_time(times), team, records))
        lines.sort(key=lambda line: rank_key(line[0], line[1], line[2].team))
        return [
            TeamStanding(rank, team.team, team.name, team.number, runners, time_ms, records)
            for rank, (runners, time_ms, team, records) in enumerate(lines, start=1)
        ]

    def _competition(self, competition_id: int, record: JudgeRecord) -> Competition:
        competition = self.competitions.get(competition_id)
        if competition is None:
            session = Session(run=None, type=RACE, type_from_name=False)
            if isinstance(record, CompetitionStart):
                session.rename(record.name)
                session.stored_id = record.session_id
            session.manual = True
            self.engine.sessions.append(session)
            competition = Competition(len(self.engine.sessions) - 1, session)
            self.competitions[competition_id] = competition
        return competition

    @staticmethod
    def _flag(session: Session, flag: str) -> None:
        if session.heart.flag != flag or not session.flag_periods:
            session._change_flag(flag, None)

    @staticmethod
    def _score(competition: Competition, team: TeamTimes) -> None:
        session = competition.session
        registration = str(team.team)
        car = session.cars.get(registration)
        if car is None:
            car = session.car(registration)
            car.number = team.number or registration
            car.first_name = team.name
        car.started = True
        times = team.counted()
        car.laps = []
        previous = 0
        for number, total in enumerate(times, start=1):
            car.laps.append(Lap(number, total - previous, total, session.heart.flag))
            previous = total
        car.recompute_best()
        car.race_laps = len(times)
        car.total_time_ms = times[-1] if times else None
        car.last_crossing_ms = car.total_time_ms
        session.race_clock_ms = max(session.race_clock_ms, car.total_time_ms or 0)
        # The board's order is the result's: the rank as ``standings`` gives it.
        ranked = sorted(
            competition.teams.values(),
            key=lambda t: rank_key(len(t.counted()), team_time(t.counted()), t.team),
        )
        for position, entry in enumerate(ranked, start=1):
            scored = session.cars.get(str(entry.team))
            if scored is not None:
                scored.race_position = position
