"""Mailed links cannot be pointed elsewhere by a forged ``Host``: a real mailbox checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.world import World
from tests.databases import test_settings
from tests.mailbox import Mailbox, link_in, mailbox  # noqa: F401  (fixture)
from trackside.config import Settings

EVIL = {"Host": "attacker.example"}


class TestWithoutPublicUrl:
    @pytest.fixture
    def settings(self, tmp_path: Path, database_url: str | None, mailbox: Mailbox) -> Settings:  # noqa: F811
        return test_settings(tmp_path / "data", database_url, smtp_url=mailbox.url)

    async def test_a_forged_host_gets_400_and_no_mail(
        self,
        world: World,
        mailbox: Mailbox,  # noqa: F811
    ) -> None:
        email = {"email": "viewer@example.org"}
        forged = await world.client.post("/auth/password-reset", json=email, headers=EVIL)
        assert forged.status_code == 400
        assert "Host" in forged.json()["detail"]
        registered = await world.client.post(
            "/auth/register",
            json={"username": "mallory", "email": "m@example.org", "password": "12345678"},
            headers=EVIL,
        )
        assert registered.status_code == 400
        asked = await world.client.post("/auth/password-reset", json=email)
        assert asked.status_code in (200, 202, 204), asked.text
        (message,) = await mailbox.await_for(1)
        assert link_in(message).startswith("http://test/")  # an allowed host, the one asked
        assert (await world.client.get("/healthz", headers=EVIL)).status_code == 400


class TestWithPublicUrl:
    @pytest.fixture
    def settings(self, tmp_path: Path, database_url: str | None, mailbox: Mailbox) -> Settings:  # noqa: F811
        return test_settings(
            tmp_path / "data",
            database_url,
            smtp_url=mailbox.url,
            public_url="https://timing.example.org",
        )

    async def test_links_use_the_public_url_whatever_the_host(
        self,
        world: World,
        mailbox: Mailbox,  # noqa: F811
    ) -> None:
        email = {"email": "viewer@example.org"}
        assert (
            await world.client.post("/auth/password-reset", json=email, headers=EVIL)
        ).status_code == 400
        asked = await world.client.post("/auth/password-reset", json=email)
        assert asked.status_code < 300
        (message,) = await mailbox.await_for(1)
        assert link_in(message).startswith("https://timing.example.org/auth/password-reset/")


def test_default_hosts_are_ours() -> None:
    settings = Settings(host="10.0.0.5", public_url="https://Timing.Example.org/x")
    assert settings.trusted_hosts[:2] == ["timing.example.org", "10.0.0.5"]
    assert "localhost" in settings.trusted_hosts
    assert Settings(allowed_hosts="a.example, *.b.example").trusted_hosts == [
        "a.example",
        "*.b.example",
    ]
