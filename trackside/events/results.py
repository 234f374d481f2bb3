"""What an event processor keeps in the database: a session row for each session the feed
opens (``/events/{id}/sessions``), and its classification as results whenever it changes
state and when the processor stops; the session ids survive a restart.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.events.models import RaceSession
from trackside.events.racelog import EventLive, SessionResult
from trackside.timing.results import session_result
from trackside.timing.scorer import Scorer


class ResultKeeper:
    """The session rows and results of one event's processor."""

    def __init__(self, event_id: int) -> None:
        self.event_id = event_id
        self.session_ids: dict[int, int] = {}  # engine session index -> sessions.id
        self.opened_at: dict[int, int] = {}  # engine session index -> received_at_ms
        self.last_received_ms: int | None = None
        # index -> (finished, name, scorer revision once finished) last saved
        self._saved: dict[int, tuple[bool, str, int]] = {}

    def reset(self) -> None:
        """The log is being scored again from the start; session ids stay."""
        self.opened_at.clear()
        self._saved.clear()

    def pending(self, scorer: Scorer) -> bool:
        """Whether ``keep`` has anything to write (so a batch that changes no session's state
        needs no database session)."""
        for index, session in enumerate(scorer.engine.sessions):
            finished = session.ended
            state = (finished, session.name, scorer.revision(index) if finished else -1)
            if self._saved.get(index) != state:
                return True
        return False

    async def keep(self, db: AsyncSession, scorer: Scorer) -> None:
        """Give each feed session a row in the event's sessions; keep results as they settle."""
        changed = False
        for index, session in enumerate(scorer.engine.sessions):
            finished = session.ended
            # A finished session changes only when race control adds to it: save it again then.
            state = (finished, session.name, scorer.revision(index) if finished else -1)
            if self._saved.get(index) == state:
                continue
            opened = _when(self.opened_at.get(index) or self.last_received_ms)
            session_id = self.session_ids.get(index) or session.stored_id
            row = await db.get(RaceSession, session_id) if session_id else None
            if row is not None:
                self.session_ids[index] = row.id
            if row is None:
                row = RaceSession(
                    event_id=self.event_id,
                    name=session.name or f"Run {session.run}",
                    type=session.type,
                    start_time=opened,
                )
                db.add(row)
                await db.flush()
                self.session_ids[index] = row.id
            row.name = session.name or row.name
            row.type = session.type
            if finished and row.end_time is None:
                row.end_time = max(opened, _when(self.last_received_ms))
            await self._save_result(db, scorer, index, row.id, finished)
            self._saved[index] = state
            changed = True
        if changed:
            await db.commit()

    async def _save_result(
        self, db: AsyncSession, scorer: Scorer, index: int, session_id: int, done: bool
    ) -> None:
        result_data = session_result(scorer.engine.sessions[index], scorer.extras(index))
        data = orjson.dumps(result_data).decode()
        result = await db.scalar(
            select(SessionResult).where(
                SessionResult.event_id == self.event_id, SessionResult.log_index == index
            )
        )
        if result is None:
            result = SessionResult(
                event_id=self.event_id, session_id=session_id, log_index=index, data=data
            )
            db.add(result)
        result.data = data
        result.finished = done
        result.updated_at = datetime.now(UTC)

    async def save_all(self, db: AsyncSession, scorer: Scorer) -> None:
        """Keep the current classification of every session (the processor is stopping)."""
        if await db.get(EventLive, self.event_id) is None:
            return  # the event (and its log) is gone
        await self.keep(db, scorer)
        for index in range(len(scorer.engine.sessions)):
            session_id = self.session_ids.get(index)
            if session_id is not None:
                await self._save_result(
                    db, scorer, index, session_id, scorer.engine.sessions[index].ended
                )
        await db.commit()

    async def load(self, db: AsyncSession) -> None:
        """Sessions kept by an earlier run of this processor keep their ids after a restart."""
        rows = (
            await db.execute(
                select(
                    SessionResult.log_index, SessionResult.session_id, SessionResult.finished
                ).where(SessionResult.event_id == self.event_id)
            )
        ).all()
        for index, session_id, _finished in rows:
            self.session_ids[index] = session_id


def _when(ms: int | None) -> datetime:
    if ms is None:
        return datetime.now(UTC)
    return datetime.fromtimestamp(ms / 1000, UTC)
