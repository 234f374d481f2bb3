"""Judging's part of the API tests' world: two judges of the public event, a scheduled and a
running competition, a team of each judge in each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from trackside.accounts import logins
from trackside.accounts import people as accounts
from trackside.judging import records
from trackside.judging import service as judging

ISS = "http://test/realms/trackside"
PASSWORD = "correct horse battery"


async def add_judging(world: Any) -> None:
    platform = world.platform
    event_id = world.ids["public"]
    async with platform.db_factory() as db:
        for name in ("judge", "other_judge"):
            user = await accounts.create(
                platform,
                db,
                username=name,
                email=f"{name}@example.org",
                password=PASSWORD,
                verified=True,
            )
            await db.commit()
            made = await judging.add_judge(db, event_id, name)
            world.ids[f"{name}_profile"] = made.judge.id
            world.users[name] = user
        when = datetime(2025, 6, 2, 10, tzinfo=UTC)
        for key in ("competition", "running_competition"):
            competition = await judging.create_competition(db, event_id, f"5K {key}", when)
            world.ids[key] = competition.id
            for judge in ("judge", "other_judge"):
                team = await judging.add_team(
                    db,
                    competition,
                    f"{judge} team",
                    str(len(world.ids)),
                    world.ids[f"{judge}_profile"],
                )
                world.ids[f"{key}_{judge}_team"] = team.id
        running = await judging.get_competition(db, event_id, world.ids["running_competition"])
        await records.start(platform, db, running)
        team = await judging.find_team(db, world.ids["running_competition_judge_team"])
        judge = await judging.find_judge(db, world.ids["judge_profile"])
        await records.save_times(
            platform,
            db,
            running,
            team,
            judge,
            [records.Tap(60_000, "2025-06-02T10:01:00Z", "tap-1")],
        )
        for name in ("judge", "other_judge"):
            user = await accounts.by_username(db, name)
            claims = await logins.claims_of(platform, db, user)
            world.tokens[name] = logins.access_token(platform, user, ISS, claims=claims)
    world.ids["team"] = world.ids["competition_judge_team"]
    world.ids["other_team"] = world.ids["competition_other_judge_team"]
