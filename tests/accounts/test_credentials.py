"""Passwords (argon2) and opaque secrets (digests): what is stored never reveals the secret."""

from __future__ import annotations

from pathlib import Path

from tests.databases import test_settings
from trackside.accounts import opaque
from trackside.accounts.passwords import Passwords


async def test_password_hashes(tmp_path: Path) -> None:
    passwords = Passwords(test_settings(tmp_path, None))
    stored = await passwords.hash("grid walk 2025")
    assert stored.startswith("$argon2id$")
    assert "grid walk" not in stored
    assert await passwords.verify(stored, "grid walk 2025")
    assert not await passwords.verify(stored, "grid walk 2026")
    assert not await passwords.verify(None, "grid walk 2025")
    assert not await passwords.verify("not a hash", "x")


async def test_stronger_settings_ask_for_a_rehash(tmp_path: Path) -> None:
    weak = await Passwords(test_settings(tmp_path, None)).hash("pw")
    strong = Passwords(test_settings(tmp_path, None, argon2_time_cost=2))
    assert strong.needs_rehash(weak)


def test_opaque_tokens() -> None:
    token = opaque.new_token()
    assert len(token) >= 43
    stored = opaque.digest(token)
    assert token not in stored
    assert opaque.matches(token, stored)
    assert not opaque.matches(token + "x", stored)
    assert opaque.new_token() != token
