"""The seed's account routes in dj-rest-auth's shapes, on the platform's accounts, with mail
through a real SMTP server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.databases import test_settings
from tests.mailbox import Mailbox, link_in, mailbox  # noqa: F401  (fixture)
from trackside.config import Settings

NEW = {
    "username": "marta",
    "email": "marta@example.org",
    "password1": "warsaw loop 2025",
    "password2": "warsaw loop 2025",
}


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None, mailbox: Mailbox) -> Settings:  # noqa: F811
    return test_settings(tmp_path / "data", database_url, smtp_url=mailbox.url)


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def test_register_verify_login_user_logout(
    client: httpx.AsyncClient,
    mailbox: Mailbox,  # noqa: F811
) -> None:
    created = await client.post("/api/auth/registration/", json=NEW)
    assert created.status_code == 201, created.text
    assert created.json() == {"detail": "Verification e-mail sent."}
    (message,) = await mailbox.await_for(1)
    assert message["To"] == "marta@example.org"

    early = await client.post(
        "/api/auth/login/", json={"username": "marta", "password": NEW["password1"]}
    )
    assert early.status_code == 400
    assert early.json() == {"non_field_errors": ["E-mail is not verified."]}

    wrong_key = await client.post("/api/auth/registration/verify-email/", json={"key": "nope"})
    assert wrong_key.status_code == 400 and list(wrong_key.json()) == ["key"]
    verified = await client.post(
        "/api/auth/registration/verify-email/", json={"key": _token(link_in(message))}
    )
    assert verified.status_code == 200, verified.text

    # dj-rest-auth logs in by username or by e-mail address.
    by_email = await client.post(
        "/api/auth/login/", json={"email": "marta@example.org", "password": NEW["password1"]}
    )
    assert by_email.status_code == 200, by_email.text
    body = by_email.json()
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"] == {
        "pk": body["user"]["pk"],
        "username": "marta",
        "email": "marta@example.org",
        "first_name": "",
        "last_name": "",
    }
    assert by_email.cookies.get("trackside-auth") == body["access"]

    me = await client.get("/api/auth/user/", headers={"Authorization": f"Bearer {body['access']}"})
    assert me.status_code == 200 and me.json()["username"] == "marta"

    bad = await client.post("/api/auth/login/", json={"username": "marta", "password": "x" * 9})
    assert bad.status_code == 400
    assert bad.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}

    out = await client.post("/api/auth/logout/", json={"refresh": body["refresh"]})
    assert out.status_code == 200 and out.json() == {"detail": "Successfully logged out."}
    spent = await client.post("/api/token/refresh/", json={"refresh": body["refresh"]})
    assert spent.status_code == 401  # the logout ended that login


async def test_password_reset_by_mail(
    client: httpx.AsyncClient,
    mailbox: Mailbox,  # noqa: F811
) -> None:
    assert (await client.post("/api/auth/registration/", json=NEW)).status_code == 201
    await mailbox.await_for(1)
    asked = await client.post("/api/auth/password/reset/", json={"email": "marta@example.org"})
    assert asked.status_code == 200
    assert asked.json() == {"detail": "Password reset e-mail has been sent."}
    messages = await mailbox.await_for(2)
    token = _token(link_in(messages[1]))
    mismatch = await client.post(
        "/api/auth/password/reset/confirm/",
        json={"uid": "1", "token": token, "new_password1": "a" * 10, "new_password2": "b" * 10},
    )
    assert mismatch.status_code == 400
    assert mismatch.json() == {"new_password2": ["The two password fields didn't match."]}
    done = await client.post(
        "/api/auth/password/reset/confirm/",
        json={
            "uid": "1",
            "token": token,
            "new_password1": "new pass 2025",
            "new_password2": "new pass 2025",
        },
    )
    assert done.status_code == 200, done.text
    # The link reached the address, which verifies it: the new password logs in.
    login = await client.post(
        "/api/auth/login/", json={"username": "marta", "password": "new pass 2025"}
    )
    assert login.status_code == 200, login.text
    again = await client.post(
        "/api/auth/password/reset/confirm/",
        json={"token": token, "new_password1": "other pass 1", "new_password2": "other pass 1"},
    )
    assert again.status_code == 400 and list(again.json()) == ["token"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW, "password2": "something else"}, "password2"),
        ({**NEW, "email": "not-an-address"}, "email"),
        ({**NEW, "username": "x"}, "username"),
        ({**NEW, "password1": "short", "password2": "short"}, "password1"),
        ({k: v for k, v in NEW.items() if k != "email"}, "email"),
    ],
)
async def test_registration_refusals_are_drf_shaped(
    client: httpx.AsyncClient,
    mailbox: Mailbox,  # noqa: F811
    body: dict,
    field: str,
) -> None:
    refused = await client.post("/api/auth/registration/", json=body)
    assert refused.status_code == 400, refused.text
    errors = refused.json()
    assert list(errors) == [field]
    assert isinstance(errors[field], list) and all(isinstance(m, str) for m in errors[field])
    assert mailbox.messages == []  # nothing stored, nothing sent
    retry = await client.post("/api/auth/registration/", json=NEW)
    assert retry.status_code == 201


async def test_taken_names_are_field_errors(
    client: httpx.AsyncClient,
    mailbox: Mailbox,  # noqa: F811
) -> None:
    assert (await client.post("/api/auth/registration/", json=NEW)).status_code == 201
    same_name = await client.post(
        "/api/auth/registration/", json={**NEW, "email": "other@example.org"}
    )
    assert same_name.status_code == 400 and list(same_name.json()) == ["username"]
    same_mail = await client.post("/api/auth/registration/", json={**NEW, "username": "other"})
    assert same_mail.status_code == 400 and list(same_mail.json()) == ["email"]
