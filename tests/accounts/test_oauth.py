"""OAuth2 client credentials in the Keycloak shape: token endpoint, errors, discovery, JWKS."""

from __future__ import annotations

import base64
from pathlib import Path

import jwt
import pytest

from tests.api.world import World
from tests.databases import test_settings
from trackside.config import Settings

TOKEN = "/realms/trackside/protocol/openid-connect/token"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def test_client_secret_post(world: World) -> None:
    client_id, secret = world.secrets["relay"]
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    response = await world.client.post(TOKEN, data=form)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "access_token",
        "expires_in",
        "refresh_expires_in",
        "token_type",
        "not-before-policy",
        "scope",
    }
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "profile email"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    events = await world.client.get(
        "/events", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert events.status_code == 200
    assert [e["id"] for e in events.json()] == [world.ids["public"]]


async def test_client_secret_basic_and_the_realm_free_path(world: World) -> None:
    client_id, secret = world.secrets["partner"]
    response = await world.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "profile"},
        headers=_basic(client_id, secret),
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "profile"


async def test_the_token_names_the_client_its_role_and_event(world: World) -> None:
    client_id, secret = world.secrets["relay"]
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    token = (await world.client.post(TOKEN, data=form)).json()["access_token"]
    jwks = (await world.client.get("/realms/trackside/protocol/openid-connect/certs")).json()
    header = jwt.get_unverified_header(token)
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert jwk["kty"] == "RSA" and jwk["alg"] == "RS256" and jwk["use"] == "sig"
    claims = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience="trackside"
    )  # the published key verifies the token
    assert claims["iss"] == "http://test/realms/trackside"
    assert claims["azp"] == claims["clientId"] == client_id
    assert claims["preferred_username"] == f"service-account-{client_id}"
    assert claims["realm_access"] == {"roles": ["official"]}
    assert claims["event_id"] == world.ids["public"]
    assert claims["typ"] == "Bearer"
    assert {"exp", "iat", "jti", "sub"} <= set(claims)


async def test_discovery_document(world: World) -> None:
    response = await world.client.get("/realms/trackside/.well-known/openid-configuration")
    doc = response.json()
    assert doc["issuer"] == "http://test/realms/trackside"
    assert doc["token_endpoint"] == f"http://test{TOKEN}"
    assert doc["jwks_uri"] == "http://test/realms/trackside/protocol/openid-connect/certs"
    assert doc["grant_types_supported"] == ["client_credentials"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    other = await world.client.get("/realms/other/.well-known/openid-configuration")
    assert other.status_code == 404


async def test_discovery_advertises_only_what_is_served(world: World) -> None:
    """No authorization endpoint means no implicit ``token`` flow; no JWT client auth either."""
    doc = (await world.client.get("/realms/trackside/.well-known/openid-configuration")).json()
    assert doc["response_types_supported"] == []
    assert "authorization_endpoint" not in doc
    assert not any(key.startswith("token_endpoint_auth_signing") for key in doc)
    assert not any(key.startswith("id_token") for key in doc)
    assert set(doc["token_endpoint_auth_methods_supported"]) <= {
        "client_secret_basic",
        "client_secret_post",
    }
    refused = await world.client.post(
        doc["token_endpoint"].removeprefix("http://test"),
        data={
            **CC,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        },
    )
    assert refused.status_code == 401


CC = {"grant_type": "client_credentials"}
ID = {"client_id": "{id}"}
SECRET = {"client_secret": "{secret}"}


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({**ID, **SECRET}, 400, "invalid_request"),
        (
            {"grant_type": "password", "username": "a", "password": "b"},
            400,
            "unsupported_grant_type",
        ),
        ({**CC, **ID, "client_secret": "nope"}, 401, "invalid_client"),
        ({**CC, "client_id": "ghost", "client_secret": "x"}, 401, "invalid_client"),
        (CC, 401, "invalid_client"),
        ({**CC, **ID}, 401, "invalid_client"),
        ({**CC, **ID, **SECRET, "scope": "admin"}, 400, "invalid_scope"),
    ],
)
async def test_token_errors(world: World, form: dict, status: int, error: str) -> None:
    client_id, secret = world.secrets["relay"]
    filled = {k: v.format(id=client_id, secret=secret) for k, v in form.items()}
    response = await world.client.post(TOKEN, data=filled)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")


async def test_token_request_shape_errors(world: World) -> None:
    client_id, secret = world.secrets["relay"]
    as_json = await world.client.post(
        TOKEN,
        json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    both = await world.client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_secret": secret},
        headers=_basic(client_id, secret),
    )
    assert both.status_code == 400
    garbled = await world.client.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic %%%not-base64"},
    )
    assert garbled.status_code == 401
    realm = await world.client.post(
        "/realms/elsewhere/protocol/openid-connect/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert realm.status_code == 404


async def test_a_revoked_client_gets_no_token(world: World) -> None:
    from trackside.accounts import clients

    client_id, secret = world.secrets["partner"]
    async with world.platform.db_factory() as db:
        await clients.revoke(db, client_id)
    response = await world.client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    )
    assert response.status_code == 401


class TestRateLimit:
    @pytest.fixture
    def settings(self, tmp_path: Path, database_url: str | None) -> Settings:
        return test_settings(tmp_path / "data", database_url, login_rate_limit=3)

    async def test_guessing_secrets_is_slowed(self, world: World) -> None:
        client_id, _ = world.secrets["relay"]
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"}
        codes = [(await world.client.post(TOKEN, data=form)).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        limited = await world.client.post(TOKEN, data=form)
        assert int(limited.headers["retry-after"]) >= 1
