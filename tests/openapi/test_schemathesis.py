"""schemathesis ``--checks all`` against a real ``trackside serve`` on a seeded world: the
OpenAPI document must tell the truth about every operation (statuses, bodies, constraints).

CI runs a few examples per operation with a fixed seed; ``-m long`` runs a deeper, unseeded
search. Exceptions the schema cannot state are in ``tests/openapi/schemathesis.toml``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.openapi.harness import run

pytestmark = pytest.mark.timeout(900)


def test_openapi_document_holds_for_a_few_examples(tmp_path: Path) -> None:
    # The examples phase has nothing to replay; coverage and fuzzing are bounded by -n.
    code = run(tmp_path, examples=5, seed=1, extra=["--phases", "coverage,fuzzing,stateful"])
    assert code == 0, f"schemathesis found failures; see its report above ({tmp_path})"


@pytest.mark.long
def test_openapi_document_holds_deep(tmp_path: Path) -> None:
    code = run(tmp_path, examples=200, seed=None, extra=[])
    assert code == 0, f"schemathesis found failures; see its report above ({tmp_path})"
