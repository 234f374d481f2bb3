"""Backoff: grows exponentially to its cap, jittered but never near zero, reset by success."""

from __future__ import annotations

import random

import pytest

from trackside.relay.backoff import Backoff


def test_delays_double_up_to_the_cap_within_the_jitter() -> None:
    backoff = Backoff(base=1.0, cap=30.0, rng=random.Random(3))
    ceilings = [1, 2, 4, 8, 16, 30, 30, 30]
    for ceiling in ceilings:
        assert backoff.ceiling() == ceiling
        assert ceiling / 2 <= backoff.next() <= ceiling


def test_jitter_spreads_relays_that_failed_together() -> None:
    delays = {Backoff(rng=random.Random(seed)).next() for seed in range(20)}
    assert len(delays) == 20


def test_success_starts_again_from_the_base() -> None:
    backoff = Backoff(base=0.5, cap=8.0, jitter=0.0)
    assert [backoff.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    backoff.reset()
    assert backoff.next() == 0.5


def test_a_long_outage_does_not_overflow() -> None:
    backoff = Backoff(base=1.0, cap=30.0, jitter=0.0)
    for _ in range(5000):
        backoff.next()
    assert backoff.next() == 30.0


@pytest.mark.parametrize(
    "kwargs", [{"base": 0.0}, {"base": 5.0, "cap": 1.0}, {"factor": 0.5}, {"jitter": 1.5}]
)
def test_nonsense_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)  # type: ignore[arg-type]
