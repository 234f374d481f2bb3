"""Secrets kept at rest (iRacing tokens, PKCE verifiers) are encrypted with Fernet.

The key never sits in the database: it comes from ``TRACKSIDE_ENCRYPTION_KEY`` or from a key
file in the data dir, made on first use and readable by its owner only (0600).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from trackside.config import Settings

KEY_FILE = "encryption.key"


class SecretBox:
    """Encrypts and decrypts short secrets with one key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, ValueError) as exc:
            raise ValueError("a secret could not be decrypted with this server's key") from exc


def load_key(settings: Settings) -> bytes:
    """The configured key, else the data dir's key file (made 0600 if missing)."""
    if settings.encryption_key is not None:
        key = settings.encryption_key.get_secret_value().encode()
        Fernet(key)  # a bad key fails at start, not at the first token
        return key
    path = Path(settings.data_dir) / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    try:
        os.write(fd, key)
    finally:
        os.close(fd)
    return key


def secret_box(settings: Settings) -> SecretBox:
    return SecretBox(load_key(settings))
