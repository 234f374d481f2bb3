"""RS256 signing keys: generated on first start, kept in the database, published as a JWKS."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trackside.accounts.models import SigningKey

ALGORITHM = "RS256"
RELOAD_INTERVAL_S = 30.0  # an unknown kid re-reads the keys at most this often


@dataclass(frozen=True, slots=True)
class KeyPair:
    kid: str
    private_key: rsa.RSAPrivateKey

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def derive(self, purpose: bytes) -> bytes:
        """A symmetric secret for ``purpose`` that every node holding this key derives alike
        (an HMAC of the purpose under the private exponent); never the key itself."""
        d = self.private_key.private_numbers().d
        return hmac.new(d.to_bytes((d.bit_length() + 7) // 8, "big"), purpose, "sha256").digest()

    def jwk(self) -> dict[str, str]:
        numbers = self.public_key.public_numbers()
        return {
            "kid": self.kid,
            "kty": "RSA",
            "alg": ALGORITHM,
            "use": "sig",
            "n": _b64int(numbers.n),
            "e": _b64int(numbers.e),
        }


def _b64int(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _generate() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:16]).rstrip(b"=").decode()
    return kid, pem


def _load(row: SigningKey) -> KeyPair:
    # The key is one this server made and stored; re-checking its primes costs ~50 ms a load.
    key = serialization.load_pem_private_key(
        row.private_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    return KeyPair(row.kid, key)


class KeyRing:
    """The keys of this database: the newest signs, every unretired one verifies."""

    def __init__(self, db_factory: async_sessionmaker[AsyncSession]) -> None:
        self._db_factory = db_factory
        self._keys: dict[str, KeyPair] = {}
        self._signing: KeyPair | None = None
        self._lock = asyncio.Lock()
        self._loaded_at = float("-inf")

    async def load(self) -> None:
        """Read the keys; generate the first one if the database has none."""
        async with self._lock:
            rows = await self._rows()
            if not rows:
                kid, pem = await asyncio.to_thread(_generate)
                async with self._db_factory() as db:
                    db.add(SigningKey(kid=kid, algorithm=ALGORITHM, private_pem=pem))
                    await db.commit()
                rows = await self._rows()
            self._keys = {row.kid: _load(row) for row in rows}
            self._signing = self._keys[rows[-1].kid]
            self._loaded_at = time.monotonic()

    async def _rows(self) -> list[SigningKey]:
        async with self._db_factory() as db:
            query = (
                select(SigningKey)
                .where(SigningKey.retired_at.is_(None))
                .order_by(SigningKey.created_at, SigningKey.kid)
            )
            return list((await db.scalars(query)).all())

    @property
    def signing(self) -> KeyPair:
        if self._signing is None:
            raise RuntimeError("key ring not loaded")
        return self._signing

    async def find(self, kid: str) -> KeyPair | None:
        """The key named ``kid``; re-read once, since another node may have added it."""
        if kid not in self._keys and time.monotonic() - self._loaded_at > RELOAD_INTERVAL_S:
            await self.load()
        return self._keys.get(kid)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [key.jwk() for key in self._keys.values()]}

    @property
    def loaded(self) -> bool:
        return self._signing is not None
