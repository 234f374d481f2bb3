"""Connection tokens on their own: what they look like on the wire and what makes one valid."""

from __future__ import annotations

import re

from trackside.live import connection_tokens

SECRET = b"s" * 32
NOW = 1_800_000_000.0


def test_a_token_is_query_safe_and_round_trips() -> None:
    token = connection_tokens.mint("kid_-1", SECRET, NOW, 60)
    # The clients append it to the socket URL as it is: no character may need escaping.
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token.text)
    assert connection_tokens.parse(token.text) == token
    assert token.expires_s == int(NOW) + 60
    assert token.valid(SECRET, NOW) and token.valid(SECRET, NOW + 59.9)
    assert not token.valid(SECRET, NOW + 60)
    assert not token.valid(b"t" * 32, NOW)  # another database's key
    assert connection_tokens.mint("kid_-1", SECRET, NOW, 60).nonce != token.nonce


def test_parse_refuses_what_is_no_token() -> None:
    token = connection_tokens.mint("kid", SECRET, NOW, 60).text
    for text in ("", "made-up", token + ".x", token.replace(".", "", 1), token + "%", " " + token):
        assert connection_tokens.parse(text) is None
