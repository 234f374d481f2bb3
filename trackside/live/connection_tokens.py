"""Stateless SignalR connection tokens, so negotiate and the socket may reach different nodes.

A negotiate answer's socket id (the v1 ``connectionToken``, or the v0 ``connectionId``) is
``{kid}.{nonce}.{expires}.{mac}``: ``mac`` is an HMAC-SHA256 of the rest under a secret derived
from the signing key ``kid`` (the keys every node reads from the database, ``accounts/keys.py``),
and ``expires`` is a Unix time in seconds. Any node that holds the key accepts a token any other
node made, with nothing stored between negotiate and the socket. Pure: the caller passes the
secret and the time in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

# What the secret is derived for: another use of the same signing key must name another purpose.
PURPOSE = b"trackside/signalr-connection-token/v1"
# kid and nonce are base64url; the clients put the token in the query string as it is.
_TOKEN = re.compile(
    r"([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{16,64})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})"
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class ConnectionToken:
    """A parsed token: which key signed it, its nonce (the v1 ``connectionId``), its expiry."""

    kid: str
    nonce: str
    expires_s: int
    mac: str

    @property
    def text(self) -> str:
        return f"{self._signed}.{self.mac}"

    @property
    def _signed(self) -> str:
        return f"{self.kid}.{self.nonce}.{self.expires_s}"

    def valid(self, secret: bytes, now_s: float) -> bool:
        """Signed with ``secret`` and not yet expired."""
        expected = _b64(hmac.new(secret, self._signed.encode(), hashlib.sha256).digest())
        return hmac.compare_digest(expected, self.mac) and now_s < self.expires_s


def mint(kid: str, secret: bytes, now_s: float, ttl_s: int) -> ConnectionToken:
    """A new token signed with ``secret`` (of key ``kid``), good for ``ttl_s`` seconds."""
    nonce = secrets.token_urlsafe(16)
    expires_s = int(now_s) + ttl_s
    signed = f"{kid}.{nonce}.{expires_s}"
    mac = _b64(hmac.new(secret, signed.encode(), hashlib.sha256).digest())
    return ConnectionToken(kid, nonce, expires_s, mac)


def parse(text: str) -> ConnectionToken | None:
    """The token's parts, or None for text that is no token (not checked: see ``valid``)."""
    match = _TOKEN.fullmatch(text)
    if match is None:
        return None
    kid, nonce, expires, mac = match.groups()
    return ConnectionToken(kid, nonce, int(expires), mac)
