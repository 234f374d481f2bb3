"""An event processor's book of officials' decisions: the classification records it applied.

Kept beside the scorer (not in it) because a decision is about a session's result, which the
scorer's standings feed; the processor hands each ``classification`` record here in log
order, so a restart that replays the log rebuilds the same versions. The book also stamps
each session of the live snapshot with ``classification: {status, revision}``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from trackside.feeds import classification_records as records
from trackside.timing.classification import Car, Classifications, correct
from trackside.timing.session import RACE

# The log source officials' decisions are appended under; only the server writes it.
SOURCE = "classification"
Snapshot = dict[str, Any]
# The results of a session index (timing.results.session_result) as they stand.
Results = Callable[[int], dict[str, Any]]


class ClassificationBook:
    """The decisions of one event and the corrected cars of its sessions."""

    def __init__(self, results: Results, sessions: Callable[[], int]) -> None:
        self._results = results
        self._sessions = sessions  # how many sessions the log has opened so far
        self.decisions = Classifications()
        self._stamped: dict[int, tuple[object, tuple[str, int], dict[str, Any]]] = {}

    def apply(self, source: str, data: str) -> str | None:
        """Apply one stored record; returns why it could not be applied, if it could not.
        A decision sent by a relay under another source is refused: ``by`` would be its say."""
        if source != SOURCE:
            return f"classification records come only from the server (source {SOURCE!r})"
        try:
            record = records.decode(data)
        except ValueError as exc:
            return f"classification record: {exc}"
        if not 0 <= record.session < self._sessions():
            return f"classification record: no session {record.session} in the log"
        return self.decisions.apply(record, self.classified)

    def classified(self, index: int, corrections: Sequence[records.Correction]) -> list[Car]:
        """The session's cars as they stand now, with the given corrections applied."""
        result = self._results(index)
        return correct(result["cars"], corrections, race=result["type"] == RACE)

    def current(self, index: int) -> list[Car]:
        """The session's classification now: the declared cars while it is official."""
        state = self.decisions.of(index)
        if state.official and state.latest is not None:
            return list(state.latest.cars)
        return self.classified(index, state.active)

    def stamp(self, body: Snapshot) -> Snapshot:
        """The snapshot with each session's status; unchanged sessions keep their object."""
        sessions = []
        for index, session in enumerate(body["sessions"]):
            state = self.decisions.of(index)
            key = (state.status, state.revision)
            kept = self._stamped.get(index)
            if kept is not None and kept[0] is session and kept[1] == key:
                sessions.append(kept[2])
                continue
            stamped = {**session, "classification": {"status": key[0], "revision": key[1]}}
            self._stamped[index] = (session, key, stamped)
            sessions.append(stamped)
        return {**body, "sessions": sessions}
