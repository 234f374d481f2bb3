"""Connecting an iRacing account by OAuth against the fake, and the attacks it must refuse."""

from __future__ import annotations

import os
import stat
import string
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from tests.api.world import World
from tests.iracing.fake_iracing import CLIENT_ID, MEMBER_ID, MEMBER_NAME, FakeState, masked
from tests.iracing.flow import authorize, connect
from trackside.iracing import oauth
from trackside.iracing.crypto import KEY_FILE
from trackside.iracing.models import IracingAccount, IracingAuthState


async def _accounts(world: World) -> list[IracingAccount]:
    async with world.platform.db_factory() as db:
        return list((await db.scalars(select(IracingAccount))).all())


def test_masking_matches_the_reference_vectors() -> None:
    assert oauth.mask("SuperSecretPassword", "test.user@example.com") == (
        "nXmEFCdpHheD1R3XBVkm6VQavR7ZLbW7SRmzo/MfFso="
    )
    assert oauth.mask("Secret-Client-Password", "UnitTestApp") == (
        "D2GfmYK/nC8zeQPkpV2uGkk13hL0/LTQH44hiJKawCo="
    )
    # the id is trimmed and lower-cased, the secret is not
    assert oauth.mask("Secret-Client-Password", "  unittestapp ") == oauth.mask(
        "Secret-Client-Password", "UnitTestApp"
    )


def test_pkce_challenge_is_s256_of_the_verifier() -> None:
    verifier = "dBjftJeZ4CVP-mJ0H1DJ7ts6E2q3CWovW8Ln3Ngj1IM"
    assert oauth.challenge(verifier) == "8MiXVfZZoGZHp7Yndx3PED8R8Ic8bnRFeFKMAjXr_5Y"  # no "="
    made = oauth.new_verifier()
    assert 43 <= len(made) <= 128
    assert set(made) <= set(string.ascii_letters + string.digits + "-._~")


async def test_start_asks_for_s256_both_scopes_and_a_fresh_state(world: World) -> None:
    first = await world.client.get("/auth/iracing/start", headers=world.auth("viewer"))
    second = await world.client.get("/auth/iracing/start", headers=world.auth("viewer"))
    assert first.status_code == 200
    assert first.json()["message"]
    url = urlsplit(first.json()["authUrl"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path.endswith("/oauth2/authorize")
    assert query["code_challenge_method"] == "S256"
    assert query["scope"] == "iracing.auth iracing.profile"
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://test/auth/iracing/callback"
    assert len(query["state"]) >= 32
    other = parse_qs(urlsplit(second.json()["authUrl"]).query)
    assert other["state"][0] != query["state"]
    assert other["code_challenge"][0] != query["code_challenge"]
    # the verifier never leaves the server; the state is kept only as a digest
    async with world.platform.db_factory() as db:
        rows = (await db.scalars(select(IracingAuthState))).all()
    assert len(rows) == 2
    assert all(query["state"] not in (r.state_hash, r.verifier) for r in rows)
    assert "httponly" in first.headers["set-cookie"].lower()


async def test_connect_stores_sealed_tokens_and_reads_the_profile(
    world: World, fake: FakeState
) -> None:
    done = await connect(world)
    assert done.status_code == 302
    assert done.headers["location"] == "/connections?success=iracing_connected"
    # the token request: a form with the masked secret, not HTTP Basic
    form = fake.token_forms[-1]
    assert form["grant_type"] == "authorization_code"
    assert form["client_secret"] == masked("Secret-Client-Password", CLIENT_ID)
    assert form["client_secret"] == "D2GfmYK/nC8zeQPkpV2uGkk13hL0/LTQH44hiJKawCo="
    assert form["redirect_uri"] == "http://test/auth/iracing/callback"
    status = await world.client.get("/api/iracing/status", headers=world.auth("viewer"))
    body = status.json()
    assert body["connected"] is True
    assert body["custId"] == MEMBER_ID
    assert body["displayName"] == MEMBER_NAME
    assert body["isExpired"] is False
    assert body["connectedAt"] and body["expiresAt"] and body["lastSyncedAt"] is None
    [account] = await _accounts(world)
    assert account.user_id == world.users["viewer"].id
    issued = set(fake.access) | {t for t in fake.refresh}
    assert account.access_token not in issued and account.refresh_token not in issued
    box = world.platform.iracing.box
    assert box.open(account.access_token) in fake.access
    assert box.open(account.refresh_token) in fake.refresh
    # the key is not in the database: a 0600 file in the data dir
    key_file = world.platform.settings.data_dir / KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


async def test_status_of_someone_not_connected(world: World) -> None:
    await connect(world, "viewer")
    other = await world.client.get("/api/iracing/status", headers=world.auth("organizer"))
    assert other.json() == {
        "connected": False,
        "custId": None,
        "displayName": None,
        "expiresAt": None,
        "isExpired": False,
        "needsReconnect": False,
        "lastSyncedAt": None,
        "connectedAt": None,
        "lastError": None,
    }


async def test_access_denied_redirects_with_the_error(world: World, fake: FakeState) -> None:
    fake.auto_approve = False
    started = await world.client.get("/auth/iracing/start", headers=world.auth("viewer"))
    async with httpx.AsyncClient() as browser:
        page = await browser.get(started.json()["authUrl"])
        deny = page.text.split('id="deny" href="')[1].split('"')[0]
        refused = await browser.get(fake.base_url + deny)
    back = urlsplit(refused.headers["location"])
    answer = await world.client.get(back.path + "?" + back.query)
    assert answer.status_code == 302
    assert answer.headers["location"] == "/connections?error=access_denied"
    assert await _accounts(world) == []


async def test_replayed_callback_is_refused_and_changes_nothing(world: World) -> None:
    path, query = await authorize(world)
    assert (await world.client.get(path, params=query)).status_code == 302
    [before] = await _accounts(world)
    again = await world.client.get(path, params=query)
    assert again.status_code == 400
    assert "state" in again.json()["detail"]
    [after] = await _accounts(world)
    assert after.access_token == before.access_token


async def test_forged_callback_is_refused(world: World, fake: FakeState) -> None:
    for query in ({"code": "x", "state": "made-up"}, {"code": "x"}, {}):
        forged = await world.client.get("/auth/iracing/callback", params=query)
        assert forged.status_code == 400, query
        assert forged.json()["detail"]
    assert fake.token_forms == []  # nothing was even sent to iRacing
    assert await _accounts(world) == []


async def test_stolen_state_from_another_browser_is_refused(world: World, app: FastAPI) -> None:
    """The victim's state and code replayed by an attacker's browser (no binding cookie)."""
    path, query = await authorize(world, "viewer")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as attacker:
        stolen = await attacker.get(path, params=query)
    assert stolen.status_code == 400
    assert "browser" in stolen.json()["detail"]
    assert await _accounts(world) == []
    # and the state is spent: the victim must start again, nothing was linked
    assert (await world.client.get(path, params=query)).status_code == 400


async def test_code_from_one_start_with_the_state_of_another_is_refused(
    world: World, fake: FakeState
) -> None:
    """A code is single-use and bound to its PKCE challenge: re-used under another state it
    fails at iRacing, and nothing is stored."""
    path, first = await authorize(world)
    _, second = await authorize(world)
    used = await world.client.get(path, params=first)
    assert used.status_code == 302
    [before] = await _accounts(world)
    reused = await world.client.get(path, params={"code": first["code"], "state": second["state"]})
    assert reused.status_code == 400
    assert "invalid_grant" in reused.json()["detail"]
    [after] = await _accounts(world)
    assert after.access_token == before.access_token and after.expires_at == before.expires_at


async def test_expired_state_is_refused(world: World) -> None:
    path, query = await authorize(world)
    async with world.platform.db_factory() as db:
        await db.execute(
            update(IracingAuthState).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        await db.commit()
    late = await world.client.get(path, params=query)
    assert late.status_code == 400
    assert "expired" in late.json()["detail"]
    assert await _accounts(world) == []


async def test_disconnect_forgets_the_tokens(world: World) -> None:
    await connect(world)
    gone = await world.client.delete("/api/iracing/connection", headers=world.auth("viewer"))
    assert gone.status_code == 204
    assert await _accounts(world) == []
    again = await world.client.delete("/api/iracing/connection", headers=world.auth("viewer"))
    assert again.status_code == 404
    status = await world.client.get("/api/iracing/status", headers=world.auth("viewer"))
    assert status.json()["connected"] is False


async def test_each_user_has_their_own_connection(world: World) -> None:
    await connect(world, "viewer")
    await connect(world, "organizer")
    async with world.platform.db_factory() as db:
        count = await db.scalar(select(func.count()).select_from(IracingAccount))
    assert count == 2
    gone = await world.client.delete("/api/iracing/connection", headers=world.auth("organizer"))
    assert gone.status_code == 204
    mine = await world.client.get("/api/iracing/status", headers=world.auth("viewer"))
    assert mine.json()["connected"] is True


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/auth/iracing/start"),
        ("GET", "/api/iracing/status"),
        ("DELETE", "/api/iracing/connection"),
        ("POST", "/api/iracing/sync"),
        ("GET", "/api/iracing/sessions"),
        ("POST", "/api/iracing/sessions/1/import?eventId=1"),
    ],
)
async def test_routes_need_a_user(world: World, method: str, path: str) -> None:
    anonymous = await world.client.request(method, path)
    assert anonymous.status_code == 401
    machine = await world.client.request(method, path, headers=world.auth("client_partner"))
    assert machine.status_code == 403


async def test_without_a_client_id_the_routes_say_so(world: World) -> None:
    world.platform.iracing.settings = world.platform.settings.model_copy(
        update={"iracing_client_id": None}
    )
    answer = await world.client.get("/api/iracing/status", headers=world.auth("viewer"))
    assert answer.status_code == 503
    assert "TRACKSIDE_IRACING_CLIENT_ID" in answer.json()["detail"]
    back = await world.client.get("/auth/iracing/callback", params={"code": "a", "state": "b"})
    assert back.status_code == 503
