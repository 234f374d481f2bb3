"""Fixtures of the relay tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.relay.contract_server import ContractServer

SECRET = "s3cret-value"


@pytest.fixture
def server() -> Iterator[ContractServer]:
    """The contract double, with client ``stand-1`` allowed to send to event 7."""
    double = ContractServer()
    double.add_client("stand-1", SECRET, ["7"])
    double.start()
    yield double
    if double.running:
        double.stop()
