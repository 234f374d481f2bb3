"""People: register with real mail, verify, log in (every shape), refresh, reset, limits."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.databases import test_settings
from tests.mailbox import Mailbox, link_in, mailbox  # noqa: F401  (fixture)
from trackside.config import Settings

NEW = {"username": "rosa", "email": "Rosa@Example.org", "password": "pit lane 2025"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None, mailbox: Mailbox) -> Settings:  # noqa: F811
    return test_settings(tmp_path / "data", database_url, smtp_url=mailbox.url)


async def _follow(client: httpx.AsyncClient, link: str) -> httpx.Response:
    parts = urlsplit(link)
    assert parts.netloc == "test"  # the link names the host the user registered through
    return await client.get(f"{parts.path}?{parts.query}")


async def _tokens(client: httpx.AsyncClient) -> dict[str, str]:
    login = await client.post("/auth/login", json={"username": "rosa", "password": NEW["password"]})
    assert login.status_code == 200, login.text
    return login.json()


async def _register_and_verify(client: httpx.AsyncClient, mailbox: Mailbox) -> None:  # noqa: F811
    created = await client.post("/auth/register", json=NEW)
    assert created.status_code == 201, created.text
    (message,) = await mailbox.await_for(1)
    assert message["To"] == "rosa@example.org"
    verified = await _follow(client, link_in(message))
    assert verified.status_code == 200, verified.text


async def test_register_verify_by_mail_then_log_in(
    client: httpx.AsyncClient,
    mailbox: Mailbox,  # noqa: F811
) -> None:
    created = await client.post("/auth/register", json=NEW)
    assert created.status_code == 201, created.text
    me = created.json()
    assert me["username"] == "rosa"
    assert me["emailVerified"] is False
    assert me["telemetryLevel"] == 1
    assert me["roles"] == ["viewer"]

    early = await client.post("/auth/login", json={"username": "rosa", "password": NEW["password"]})
    assert early.status_code == 403
    assert "confirm" in early.json()["detail"]

    (message,) = await mailbox.await_for(1)
    assert "Confirm" in message["Subject"]
    assert NEW["password"] not in message.get_content()
    verified = await _follow(client, link_in(message))
    assert verified.status_code == 200
    again = await _follow(client, link_in(message))
    assert again.status_code == 422  # one-time

    login = await client.post("/auth/login", json={"username": "rosa", "password": NEW["password"]})
    assert login.status_code == 200, login.text
    tokens = login.json()
    assert {"access", "refresh"} <= set(tokens)
    mine = await client.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access']}"})
    assert mine.json()["emailVerified"] is True
    assert mine.json()["email"] == "rosa@example.org"


async def test_every_login_shape(client: httpx.AsyncClient, mailbox: Mailbox) -> None:  # noqa: F811
    await _register_and_verify(client, mailbox)
    credentials = {"username": "rosa", "password": NEW["password"]}

    simplejwt = await client.post("/api/token/", json=credentials)
    assert simplejwt.status_code == 200
    refreshed = await client.post(
        "/api/token/refresh/", json={"refresh": simplejwt.json()["refresh"]}
    )
    assert refreshed.status_code == 200
    assert {"access", "refresh"} <= set(refreshed.json())

    bearer = await client.post("/login", json=credentials)
    assert bearer.status_code == 200
    body = bearer.json()
    assert body["token_type"] == "bearer"
    me = await client.get("/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "rosa"
    assert me.json()["level"] == 1

    by_email = await client.post(
        "/auth/login", json={"username": "ROSA@example.org", "password": NEW["password"]}
    )
    assert by_email.status_code == 200

    wrong = await client.post("/auth/login", json={"username": "rosa", "password": "nope nope"})
    assert wrong.status_code == 401
    nobody = await client.post("/auth/login", json={"username": "nobody", "password": "x"})
    assert nobody.status_code == 401
    assert wrong.json()["detail"] == nobody.json()["detail"]


async def test_refresh_rotates_and_reuse_revokes_the_family(
    client: httpx.AsyncClient,
    mailbox: Mailbox,  # noqa: F811
) -> None:
    await _register_and_verify(client, mailbox)
    first = await _tokens(client)
    other_login = await _tokens(client)

    second = await client.post("/auth/refresh", json={"refresh": first["refresh"]})
    assert second.status_code == 200
    assert second.json()["refresh"] != first["refresh"]
    third = await client.post("/auth/refresh", json={"refresh": second.json()["refresh"]})
    assert third.status_code == 200

    # first's successor was used, so first coming back is a copy, not a retry.
    replayed = await client.post("/auth/refresh", json={"refresh": first["refresh"]})
    assert replayed.status_code == 401
    assert "already used" in replayed.json()["detail"]
    # The thief's replay also killed the legitimate successor …
    successor = await client.post("/auth/refresh", json={"refresh": third.json()["refresh"]})
    assert successor.status_code == 401
    # … but not an unrelated login.
    unrelated = await client.post("/auth/refresh", json={"refresh": other_login["refresh"]})
    assert unrelated.status_code == 200

    unknown = await client.post("/auth/refresh", json={"refresh": "made-up"})
    assert unknown.status_code == 401


async def test_a_refresh_retried_after_a_lost_reply_keeps_the_login(
    client: httpx.AsyncClient,
    mailbox: Mailbox,  # noqa: F811
) -> None:
    await _register_and_verify(client, mailbox)
    login = await _tokens(client)
    lost = await client.post("/auth/refresh", json={"refresh": login["refresh"]})
    assert lost.status_code == 200  # … but the reply never reached the client
    retried = await client.post("/auth/refresh", json={"refresh": login["refresh"]})
    assert retried.status_code == 200, retried.text
    # The token in the lost reply is void; the retry's token carries the login on.
    void = await client.post("/auth/refresh", json={"refresh": lost.json()["refresh"]})
    assert void.status_code == 401
    # The void token coming back means someone holds it: the whole login is logged out.
    again = await client.post("/auth/refresh", json={"refresh": retried.json()["refresh"]})
    assert again.status_code == 401


async def test_the_grace_is_one_retry_only(
    client: httpx.AsyncClient,
    mailbox: Mailbox,  # noqa: F811
) -> None:
    await _register_and_verify(client, mailbox)
    login = await _tokens(client)
    assert (await client.post("/auth/refresh", json={"refresh": login["refresh"]})).is_success
    retried = await client.post("/auth/refresh", json={"refresh": login["refresh"]})
    assert retried.status_code == 200
    twice = await client.post("/auth/refresh", json={"refresh": login["refresh"]})
    assert twice.status_code == 401
    dead = await client.post("/auth/refresh", json={"refresh": retried.json()["refresh"]})
    assert dead.status_code == 401


async def test_password_reset_by_mail(client: httpx.AsyncClient, mailbox: Mailbox) -> None:  # noqa: F811
    await _register_and_verify(client, mailbox)
    old = await _tokens(client)

    asked = await client.post("/auth/password-reset", json={"email": "rosa@example.org"})
    assert asked.status_code == 202
    stranger = await client.post("/auth/password-reset", json={"email": "who@example.org"})
    assert stranger.status_code == 202
    assert stranger.json() == asked.json()  # no hint whether an account exists

    messages = await mailbox.await_for(2)
    assert len(messages) == 2  # the verification mail, and one reset mail: none for the stranger
    link = link_in(messages[1])
    checked = await _follow(client, link)
    assert checked.status_code == 200
    token = urlsplit(link).query.removeprefix("token=")

    changed = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": "new and longer"}
    )
    assert changed.status_code == 200, changed.text
    reused = await client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": "another one!"}
    )
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["field"] == "token"

    stale = await client.post("/auth/login", json={"username": "rosa", "password": NEW["password"]})
    assert stale.status_code == 401
    fresh = await client.post(
        "/auth/login", json={"username": "rosa", "password": "new and longer"}
    )
    assert fresh.status_code == 200
    logged_out = await client.post("/auth/refresh", json={"refresh": old["refresh"]})
    assert logged_out.status_code == 401


async def test_names_and_addresses_are_unique(client: httpx.AsyncClient, mailbox: Mailbox) -> None:  # noqa: F811
    assert (await client.post("/auth/register", json=NEW)).status_code == 201
    same_name = await client.post(
        "/auth/register", json={**NEW, "username": "ROSA", "email": "b@x.org"}
    )
    assert same_name.status_code == 409
    assert same_name.json()["errors"][0]["field"] == "username"
    same_mail = await client.post("/auth/register", json={**NEW, "username": "other"})
    assert same_mail.status_code == 409
    assert same_mail.json()["errors"][0]["field"] == "email"


class TestWithoutSmtp:
    @pytest.fixture
    def settings(self, tmp_path: Path, database_url: str | None) -> Settings:
        return test_settings(tmp_path / "data", database_url)

    async def test_the_link_goes_to_the_log(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING, logger="trackside.mail"):
            created = await client.post("/auth/register", json=NEW)
        assert created.status_code == 201
        logged = caplog.text
        assert "http://test/auth/verify?token=" in logged
        assert NEW["password"] not in logged
        link = logged[logged.index("http://test/auth/verify") :].split()[0]
        assert (await _follow(client, link)).status_code == 200


class TestLimits:
    @pytest.fixture
    def settings(self, tmp_path: Path, database_url: str | None) -> Settings:
        return test_settings(
            tmp_path / "data", database_url, login_rate_limit=3, write_rate_limit=2
        )

    async def test_login_attempts_are_limited(self, client: httpx.AsyncClient) -> None:
        attempt = {"username": "admin", "password": "guess guess"}
        codes = [(await client.post("/auth/login", json=attempt)).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        limited = await client.post("/api/token/", json=attempt)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert "retry" in limited.json()["detail"]
        other_account = await client.post("/login", json={**attempt, "username": "else"})
        assert other_account.status_code == 401

    async def test_writes_are_limited(self, world) -> None:  # type: ignore[no-untyped-def]
        headers = world.auth("admin")
        codes = [
            (
                await world.client.post("/organization", json={"name": f"O{i}"}, headers=headers)
            ).status_code
            for i in range(3)
        ]
        assert codes == [201, 201, 429]
        reads = await world.client.get("/organization", headers=headers)
        assert reads.status_code == 200
        assert len(reads.json()) == 4  # the two from the world, two new: the third never landed
        anonymous = [
            (await world.client.post("/auth/password-reset", json={"email": "a@b.org"})).status_code
            for _ in range(3)
        ]
        assert anonymous == [202, 202, 429]
