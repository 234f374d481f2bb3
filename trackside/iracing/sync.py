"""Sync a member's iRacing sessions: their leagues' season sessions and their hosted sessions
over a time window, each with its participants (``results/get``), stored per user.

A session already stored is updated in place (participants replaced), never duplicated. A call
that fails is retried once by the Data API client; what still fails is counted in ``errors``
with a detail, and the rest is kept (a partial sync still answers 200). Missing fields become
null.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.errors import NotFound
from trackside.iracing import convert
from trackside.iracing.connections import IRacing
from trackside.iracing.data_api import DataApi, DataApiError, RateLimited
from trackside.iracing.models import IracingAccount, IracingParticipant, IracingSession

HOSTED_WINDOW = timedelta(days=30)  # iRacing allows at most 90 days per search
MAX_SEASONS = 5  # the most recent seasons of each league
MAX_SESSIONS = 200  # per sync


@dataclass(slots=True)
class SyncReport:
    synced: int = 0
    errors: int = 0
    error_details: list[str] = field(default_factory=list)
    rate_limited_for_s: float | None = None

    def failed(self, what: str, exc: Exception) -> None:
        self.errors += 1
        self.error_details.append(f"{what}: {exc}")

    @property
    def message(self) -> str:
        text = f"Synced {self.synced} session(s)"
        if self.errors:
            text += f" with {self.errors} error(s)"
        if self.rate_limited_for_s is not None:
            text += (
                f"; iRacing's rate limit resets in {self.rate_limited_for_s:.0f} s, sync again then"
            )
        return text + "."


@dataclass(frozen=True, slots=True)
class Found:
    """A subsession to read, with what the listing already said of it."""

    subsession_id: int
    kind: str  # league or hosted
    known: dict[str, Any]


def _rows(doc: Any, *keys: str) -> list[dict[str, Any]]:
    """The list under the first of ``keys`` present (searched in ``data`` too), else chunks."""
    for holder in (doc, doc.get("data") if isinstance(doc, dict) else None):
        if not isinstance(holder, dict):
            continue
        for key in keys:
            if isinstance(holder.get(key), list):
                return [r for r in holder[key] if isinstance(r, dict)]
    if isinstance(doc, list):
        return [r for r in doc if isinstance(r, dict)]
    return []


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


class Syncer:
    """One sync of one member, under the member's lock."""

    def __init__(self, iracing: IRacing, db: AsyncSession, user_id: int) -> None:
        self.iracing = iracing
        self.db = db
        self.user_id = user_id
        self.api: DataApi = iracing.data_api()
        self.report = SyncReport()

    async def get(self, path: str, **params: Any) -> Any:
        return await self.iracing.fetch(self.db, self.user_id, self.api, path, **params)

    async def league_sessions(self, cust_id: int) -> list[Found]:
        found: list[Found] = []
        try:
            leagues = _rows(await self.get("league/membership", cust_id=cust_id), "leagues")
        except (DataApiError, ValueError) as exc:
            self._fail("league memberships", exc)
            return found
        for league in leagues:
            league_id = convert._int(league.get("league_id"))
            if league_id is None:
                continue
            name = league.get("league_name")
            try:
                seasons = _rows(await self.get("league/seasons", league_id=league_id), "seasons")
            except (DataApiError, ValueError) as exc:
                self._fail(f"seasons of league {league_id}", exc)
                continue
            seasons.sort(key=lambda s: convert._int(s.get("season_id")) or 0, reverse=True)
            for season in seasons[:MAX_SEASONS]:
                season_id = convert._int(season.get("season_id"))
                if season_id is None:
                    continue
                try:
                    doc = await self.get(
                        "league/season_sessions",
                        league_id=league_id,
                        season_id=season_id,
                        results_only="true",
                    )
                except (DataApiError, ValueError) as exc:
                    self._fail(f"sessions of league {league_id} season {season_id}", exc)
                    continue
                for item in _rows(doc, "sessions"):
                    subsession = convert._int(item.get("subsession_id"))
                    if subsession is None:
                        continue
                    track = item.get("track") if isinstance(item.get("track"), dict) else {}
                    found.append(
                        Found(
                            subsession,
                            "league",
                            {
                                "league_id": league_id,
                                "league_name": name,
                                "season_id": season_id,
                                "session_id": item.get("session_id"),
                                "session_name": item.get("session_name"),
                                "start_time": item.get("launch_at") or item.get("start_time"),
                                "track_name": track.get("track_name"),
                            },
                        )
                    )
        return found

    async def hosted_sessions(self, cust_id: int, now: datetime) -> list[Found]:
        try:
            doc = await self.get(
                "results/search_hosted",
                start_range_begin=_iso(now - HOSTED_WINDOW),
                start_range_end=_iso(now),
                cust_id=cust_id,
            )
        except (DataApiError, ValueError) as exc:
            self._fail("hosted sessions", exc)
            return []
        found = []
        for item in _rows(doc, "rows", "results"):
            subsession = convert._int(item.get("subsession_id"))
            if subsession is None:
                continue
            known = {
                "session_id": item.get("session_id"),
                "session_name": item.get("session_name"),
                "start_time": item.get("start_time"),
                "track_name": (item.get("track") or {}).get("track_name")
                if isinstance(item.get("track"), dict)
                else None,
            }
            found.append(Found(subsession, "hosted", known))
        return found

    def _fail(self, what: str, exc: Exception) -> None:
        if isinstance(exc, RateLimited):
            self.report.rate_limited_for_s = exc.reset_in_s
        self.report.failed(what, exc)

    async def store(self, found: Found, summary: convert.SessionSummary) -> None:
        row = await self.db.scalar(
            select(IracingSession).where(
                IracingSession.user_id == self.user_id,
                IracingSession.subsession_id == summary.subsession_id,
            )
        )
        if row is None:
            row = IracingSession(user_id=self.user_id, subsession_id=summary.subsession_id)
            self.db.add(row)
        row.session_id = summary.session_id
        row.session_type = summary.session_type
        row.kind = found.kind
        row.league_id = summary.league_id
        row.league_name = summary.league_name
        row.season_id = summary.season_id
        row.session_name = summary.session_name or summary.series_name
        row.track_name = summary.track_name
        row.car_name = summary.car_name
        row.start_time = summary.start_time
        row.end_time = summary.end_time
        row.synced_at = datetime.now(UTC)
        row.participants = [
            IracingParticipant(
                cust_id=p.cust_id,
                team_id=p.team_id,
                team_name=p.team_name,
                display_name=p.display_name,
                car_number=p.car_number,
                car_class=p.car_class,
                laps_completed=p.laps_completed,
                best_lap_time=p.best_lap_time,
                incidents=p.incidents,
                finish_position=p.finish_position,
                starting_position=p.starting_position,
                total_laps=p.total_laps,
            )
            for p in summary.participants
        ]
        await self.db.commit()

    async def run(self, now: datetime | None = None) -> SyncReport:
        now = now or datetime.now(UTC)
        account = await self.iracing.account(self.db, self.user_id)
        if account is None:
            raise LookupError("no iRacing account is connected")
        cust_id = account.cust_id
        await self.db.commit()
        found = [*await self.league_sessions(cust_id), *await self.hosted_sessions(cust_id, now)]
        seen: set[int] = set()
        for item in found[:MAX_SESSIONS]:
            if item.subsession_id in seen or self.report.rate_limited_for_s is not None:
                continue
            seen.add(item.subsession_id)
            try:
                doc = await self.get("results/get", subsession_id=item.subsession_id)
                if not isinstance(doc, dict):
                    raise ValueError("the result is not a JSON object")
                summary = convert.summary(doc, subsession_id=item.subsession_id, **item.known)
            except (DataApiError, ValueError) as exc:
                self._fail(f"subsession {item.subsession_id}", exc)
                continue
            await self.store(item, summary)
            self.report.synced += 1
        account = await self.iracing.account(self.db, self.user_id)
        if account is not None:
            account.last_synced_at = datetime.now(UTC)
            account.last_error = "; ".join(self.report.error_details[:3]) or None
            await self.db.commit()
        return self.report


async def sync(iracing: IRacing, db: AsyncSession, user_id: int) -> SyncReport:
    """Sync one member now (one sync per member at a time)."""
    iracing.require()
    async with iracing.lock(user_id):
        try:
            return await Syncer(iracing, db, user_id).run()
        except LookupError as exc:
            raise NotFound(str(exc)) from None


@dataclass(frozen=True, slots=True)
class Page:
    sessions: list[tuple[IracingSession, IracingParticipant | None]]
    total: int


async def sessions(db: AsyncSession, user_id: int, limit: int, offset: int) -> Page:
    """The user's synced sessions, newest first, each with the user's own result."""
    account = await db.scalar(select(IracingAccount).where(IracingAccount.user_id == user_id))
    cust_id = account.cust_id if account is not None else None
    total = await db.scalar(
        select(func.count()).select_from(IracingSession).where(IracingSession.user_id == user_id)
    )
    rows = (
        await db.scalars(
            select(IracingSession)
            .where(IracingSession.user_id == user_id)
            .order_by(IracingSession.start_time.desc().nulls_last(), IracingSession.id.desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    out = []
    for row in rows:
        mine = next((p for p in row.participants if cust_id and p.cust_id == cust_id), None)
        out.append((row, mine))
    return Page(out, total or 0)


async def session_of(db: AsyncSession, user_id: int, session_id: int) -> IracingSession:
    """One of the user's synced sessions; another user's is as missing as a wrong id."""
    row = await db.get(IracingSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"no synced iRacing session {session_id}")
    return row
