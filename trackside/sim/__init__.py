"""A built-in race simulator that emits a realistic RMonitor feed, for the demo and for tests.

``simulate(SimConfig(seed=…))`` returns the feed as timed lines and the simulator's own
classification, so that what trackside scores from the feed can be checked against the truth.
"""

from trackside.sim.field import DEFAULT_CLASSES, ClassSpec, Entry
from trackside.sim.race import Classified, FeedLine, SimConfig, SimulatedRace, simulate

__all__ = [
    "DEFAULT_CLASSES",
    "ClassSpec",
    "Classified",
    "Entry",
    "FeedLine",
    "SimConfig",
    "SimulatedRace",
    "simulate",
]
