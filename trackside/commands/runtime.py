"""Process settings for a long-running server, or a replay of a whole season."""

from __future__ import annotations

import gc

# Young-generation threshold: with thousands of live subscribers, the default (700) makes the
# collector walk every connection's objects many times a second (benchmarks/live.py).
GC_THRESHOLDS = (50_000, 20, 1_000)


def tune_gc() -> None:
    """Move everything loaded at start out of the collector's way, and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def start_logging(level: str) -> None:
    """The server's log lines, in the ``serve`` process and in each of its workers."""
    import logging

    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
