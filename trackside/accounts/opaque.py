"""Opaque one-time tokens and client secrets: random, shown once, stored only as a digest.

They carry 256 bits of randomness, so a fast digest is enough (slow hashes protect guessable
passwords, not random keys).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def matches(token: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(token), stored_digest)
