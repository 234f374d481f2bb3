"""Secrets at rest: Fernet with a key from the environment or a 0600 file, never the database."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.databases import test_settings
from trackside.iracing.connections import IRacing
from trackside.iracing.crypto import KEY_FILE, SecretBox, load_key, secret_box


def test_a_key_file_is_made_once_owner_only(tmp_path: Path) -> None:
    settings = test_settings(tmp_path / "data", None)
    box = secret_box(settings)
    sealed = box.seal("refresh-token-1")
    assert "refresh-token-1" not in sealed
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert secret_box(settings).open(sealed) == "refresh-token-1"  # the same key again


def test_the_environment_key_wins_and_no_file_is_written(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    settings = test_settings(tmp_path / "data", None, encryption_key=key)
    assert load_key(settings) == key.encode()
    assert not (tmp_path / "data" / KEY_FILE).exists()
    with pytest.raises(ValueError):
        load_key(test_settings(tmp_path / "data", None, encryption_key="not a key"))


def test_another_key_cannot_open_it() -> None:
    sealed = SecretBox(Fernet.generate_key()).seal("x")
    with pytest.raises(ValueError, match="decrypted"):
        SecretBox(Fernet.generate_key()).open(sealed)


def test_the_redirect_uri_defaults_to_the_public_url(tmp_path: Path) -> None:
    public = test_settings(tmp_path, None, public_url="https://timing.example.org/")
    assert IRacing(public).redirect_uri("http://10.0.0.1:8000") == (
        "https://timing.example.org/auth/iracing/callback"
    )
    assert IRacing(test_settings(tmp_path, None)).redirect_uri("http://h:1/") == (
        "http://h:1/auth/iracing/callback"
    )
    fixed = test_settings(tmp_path, None, iracing_redirect_uri="https://x.org/cb")
    assert IRacing(fixed).redirect_uri("http://h:1") == "https://x.org/cb"
