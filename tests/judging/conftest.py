"""Judging's tests run in the API tests' world with judging added to it."""

from __future__ import annotations

import pytest

from tests.api.world import World
from tests.judging.world import add_judging


@pytest.fixture
async def world(world: World) -> World:
    """Judges, a scheduled and a running competition with a team of each judge, one tap."""
    await add_judging(world)
    return world
