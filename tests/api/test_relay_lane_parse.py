"""The relay lane's body parse (``api.relay_lane.parse``: ``model_validate_json``) accepts and
refuses exactly the bodies ``orjson.loads`` then ``model_validate`` does, with the same values:
wrong types, ints as strings, floats, huge ints, duplicate keys, extra fields, bad UTF-8, broken
JSON, and random mutations of a valid body. A body the lane refuses goes on to the route."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trackside.api.relay_lane import parse
from trackside.events.schemas import RelayBatchIn

R = b'{"seq": 1, "received_at": 5, "type": "rmonitor", "data": "$F"}'


def b(rec: bytes = R, source: bytes = b'"r"', extra: bytes = b"") -> bytes:
    return b'{"source": ' + source + b', "records": [' + rec + b"]" + extra + b"}"


def reference(body: bytes) -> RelayBatchIn | None:
    """What the lane did before: orjson, then validation of the Python objects."""
    try:
        return RelayBatchIn.model_validate(orjson.loads(body))
    except (orjson.JSONDecodeError, ValidationError):
        return None


CASES = {
    "valid": b(),
    "empty records": b'{"source": "r", "records": []}',
    "seq str": b(R.replace(b'"seq": 1', b'"seq": "1"')),
    "seq float 1.0": b(R.replace(b'"seq": 1', b'"seq": 1.0')),
    "seq 1e0": b(R.replace(b'"seq": 1', b'"seq": 1e0')),
    "seq true": b(R.replace(b'"seq": 1', b'"seq": true')),
    "seq null": b(R.replace(b'"seq": 1', b'"seq": null')),
    "received -0": b(R.replace(b'"received_at": 5', b'"received_at": -0')),
    "seq 2**53": b(R.replace(b'"seq": 1', b'"seq": 9007199254740992')),
    "seq 2**53+1": b(R.replace(b'"seq": 1', b'"seq": 9007199254740993')),
    "seq 2**64": b(R.replace(b'"seq": 1', b'"seq": 18446744073709551616')),
    "seq 2**63": b(R.replace(b'"seq": 1', b'"seq": 9223372036854775808')),
    "seq huge": b(R.replace(b'"seq": 1', b'"seq": ' + b"9" * 5000)),
    "seq NaN": b(R.replace(b'"seq": 1', b'"seq": NaN')),
    "seq Infinity": b(R.replace(b'"seq": 1', b'"seq": Infinity')),
    "seq 01": b(R.replace(b'"seq": 1', b'"seq": 01')),
    "data int": b(R.replace(b'"data": "$F"', b'"data": 5')),
    "data NUL": b(R.replace(b'"data": "$F"', b'"data": "a\\u0000b"')),
    "data lone surrogate": b(R.replace(b'"data": "$F"', b'"data": "\\ud800"')),
    "data surrogate pair": b(R.replace(b'"data": "$F"', b'"data": "\\ud83d\\ude00"')),
    "data raw utf8": b(R.replace(b'"data": "$F"', '"data": "é😀"'.encode())),
    "data non-utf8": b(R.replace(b'"data": "$F"', b'"data": "\xff\xfe"')),
    "data overlong utf8": b(R.replace(b'"data": "$F"', b'"data": "\xc0\xaf"')),
    "data encoded surrogate": b(R.replace(b'"data": "$F"', b'"data": "\xed\xa0\x80"')),
    "data control char raw": b(R.replace(b'"data": "$F"', b'"data": "a\x01b"')),
    "data raw newline": b(R.replace(b'"data": "$F"', b'"data": "a\nb"')),
    "data raw tab": b(R.replace(b'"data": "$F"', b'"data": "a\tb"')),
    "data DEL raw": b(R.replace(b'"data": "$F"', b'"data": "a\x7fb"')),
    "data bad escape": b(R.replace(b'"data": "$F"', b'"data": "a\\qb"')),
    "data 65536": b(R.replace(b'"data": "$F"', b'"data": "' + b"x" * 65536 + b'"')),
    "data 65537": b(R.replace(b'"data": "$F"', b'"data": "' + b"x" * 65537 + b'"')),
    "data 65536 with multibyte": b(
        R.replace(b'"data": "$F"', b'"data": "' + "é".encode() * 65536 + b'"')
    ),
    "extra field record": b(R.replace(b"}", b', "x": 1}')),
    "extra field top": b(extra=b', "x": 1'),
    "missing field": b(R.replace(b', "data": "$F"', b"")),
    "dup key seq": b(R.replace(b'"seq": 1', b'"seq": 1, "seq": 2')),
    "dup key seq bad then good": b(R.replace(b'"seq": 1', b'"seq": "x", "seq": 2')),
    "dup key seq good then bad": b(R.replace(b'"seq": 1', b'"seq": 2, "seq": "x"')),
    "dup source": b'{"source": "a", "source": "b", "records": []}',
    "dup records": b'{"source": "a", "records": [' + R + b'], "records": []}',
    "dup records bad first": b'{"source": "a", "records": 5, "records": []}',
    "source reserved": b(source=b'"classification"'),
    "source judge:": b(source=b'"judge:x"'),
    "source spaces": b(source=b'"  r  "'),
    "source inner space": b(source=b'"a b"'),
    "source unicode space": b(source='"a\u00a0b"'.encode()),
    "source empty": b(source=b'""'),
    "source newline end": b(source=b'"abc\\n"'),
    "type server": b(R.replace(b'"type": "rmonitor"', b'"type": "controllog"')),
    "type other": b(R.replace(b'"type": "rmonitor"', b'"type": "weird"')),
    "type empty": b(R.replace(b'"type": "rmonitor"', b'"type": ""')),
    "type 33": b(R.replace(b'"type": "rmonitor"', b'"type": "' + b"t" * 33 + b'"')),
    "records not list": b'{"source": "r", "records": {}}',
    "records 1001": b'{"source": "r", "records": [' + b",".join([R] * 1001) + b"]}",
    "records 1000": b'{"source": "r", "records": [' + b",".join([R] * 1000) + b"]}",
    "top list": b"[]",
    "top null": b"null",
    "empty": b"",
    "whitespace": b"  ",
    "trailing garbage": b() + b" x",
    "trailing ws": b() + b" \n\t\r",
    "two objects": b() + b(),
    "BOM": b"\xef\xbb\xbf" + b(),
    "leading ws": b" \n" + b(),
    "trailing comma": b'{"source": "r", "records": [],}',
    "single quotes": b"{'source': 'r', 'records': []}",
    "comment": b'{"source": "r", /* c */ "records": []}',
    "deep": b'{"source": "r", "records": [' + b"[" * 10000 + b"]" * 10000 + b"]}",
    "nul byte outside": b() + b"\x00",
    "utf16": b().decode().encode("utf-16"),
    "escaped key": b'{"sour\\u0063e": "r", "records": []}',
    "float received 5.5": b(R.replace(b'"received_at": 5', b'"received_at": 5.5')),
    "neg received": b(R.replace(b'"received_at": 5', b'"received_at": -1')),
    "seq 0": b(R.replace(b'"seq": 1', b'"seq": 0')),
    "seq big negative": b(R.replace(b'"seq": 1', b'"seq": -18446744073709551617')),
    "received 1E2": b(R.replace(b'"received_at": 5', b'"received_at": 1E2')),
    "received -0.0": b(R.replace(b'"received_at": 5', b'"received_at": -0.0')),
}
# Bodies each way must accept (the rest, by the reference, are refused).
ACCEPTED = {
    "valid",
    "empty records",
    "received -0",
    "seq 2**53",
    "data surrogate pair",
    "data raw utf8",
    "data DEL raw",
    "data 65536",
    "data 65536 with multibyte",
    "dup key seq",
    "dup key seq bad then good",
    "dup source",
    "dup records",
    "dup records bad first",
    "source spaces",
    "source newline end",
    "type other",
    "records 1000",
    "trailing ws",
    "leading ws",
    "escaped key",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_lane_parses_as_orjson_then_pydantic(name: str) -> None:
    body = CASES[name]
    expected = reference(body)
    assert (expected is not None) == (name in ACCEPTED)
    assert parse(body) == expected  # None for both, or the same batch, field for field


def test_duplicate_keys_keep_the_last() -> None:
    parsed = parse(CASES["dup key seq bad then good"])
    assert parsed is not None and parsed.records[0].seq == 2
    assert parse(CASES["dup source"]) == RelayBatchIn(source="b", records=[])


VALID = orjson.dumps(
    {
        "source": "rmonitor",
        "records": [
            {
                "seq": 1,
                "received_at": 1_745_700_000_000,
                "type": "rmonitor",
                "data": '$F,9999,"08:00"',
            },
            {"seq": 2, "received_at": 1_745_700_000_001, "type": "p3", "data": "8e02f3"},
        ],
    }
)
PIECES = [
    b"",
    b"0",
    b"-1",
    b"1.0",
    b"1e3",
    b"9007199254740993",
    b"18446744073709551616",
    b'"1"',
    b"true",
    b"null",
    b"NaN",
    b"[]",
    b"{}",
    b",",
    b":",
    b'"',
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\x00",
    b" ",
    b'"x": 1',
    b'"seq"',
    b"}",
    b"]",
]


@settings(max_examples=400, deadline=None)
@given(
    cuts=st.lists(
        st.tuples(st.integers(0, len(VALID)), st.integers(0, 8), st.sampled_from(PIECES)),
        min_size=1,
        max_size=3,
    )
)
def test_mutated_bodies_parse_alike(cuts: list[tuple[int, int, bytes]]) -> None:
    body = VALID
    for at, drop, piece in cuts:
        body = body[:at] + piece + body[at + drop :]
    assert parse(body) == reference(body)
