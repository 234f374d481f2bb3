"""Waiting for a server process the tests started: until its probe answers, or it dies."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_answers(
    process: subprocess.Popen[bytes], probe: str, status: int, timeout_s: float
) -> bool:
    """True once ``probe`` answers ``status``; False if the process exits or time runs out
    first (the caller reports why, with the process's log)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(probe, timeout=2).status_code == status:
                return True
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.2)
