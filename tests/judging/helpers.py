"""A manual competition made over HTTP, as an organizer would: judges, a competition, teams."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from tests.relay.stack import PASSWORD, Server, cli, seed


@dataclass
class Setup:
    event_id: int
    organizer: dict[str, str]
    competition_id: int
    judges: dict[str, int] = field(default_factory=dict)  # username -> juez_id
    teams: dict[str, int] = field(default_factory=dict)  # username -> their team's id
    tokens: dict[str, str] = field(default_factory=dict)  # username -> access token


async def judged_competition(server: Server, judges: list[str]) -> Setup:
    """An event (``seed``), a judge profile per name, one competition and a team per judge."""
    _, _, event_id, headers = await seed(server)
    for name in judges:
        await cli(server.env, "users", "create", name, "--email", f"{name}@example.org",
                  "--password", PASSWORD)  # fmt: skip
    async with httpx.AsyncClient(base_url=server.url) as http:
        competition = await http.post(
            f"/events/{event_id}/competitions",
            json={"name": "5K por equipos", "scheduledStart": "2025-11-11T12:00:00Z"},
            headers=headers,
        )
        assert competition.status_code == 201, competition.text
        setup = Setup(event_id, headers, competition.json()["id"])
        for number, name in enumerate(judges, start=1):
            judge = await http.post(
                f"/events/{event_id}/judges", json={"username": name}, headers=headers
            )
            assert judge.status_code == 201, judge.text
            setup.judges[name] = judge.json()["id"]
            team = await http.post(
                f"/events/{event_id}/competitions/{setup.competition_id}/teams",
                json={
                    "name": f"Equipo {name}",
                    "number": str(number),
                    "judgeId": judge.json()["id"],
                },
                headers=headers,
            )
            assert team.status_code == 201, team.text
            setup.teams[name] = team.json()["id"]
            token = await http.post("/api/token/", json={"username": name, "password": PASSWORD})
            assert token.status_code == 200, token.text
            setup.tokens[name] = token.json()["access"]
    return setup
