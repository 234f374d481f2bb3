"""Fetching an official's URL: no private addresses, redirects bounded and re-checked, the
body streamed and cut at the cap. A real HTTP server on loopback plays the log's host."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from trackside.controllog.fetch import FetchRefused, TooLarge, fetch, refused_address

CHUNK = b"x" * 65536


class Handler(BaseHTTPRequestHandler):
    sent = 0  # bytes of the endless body written, across requests

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/hop/"):
            left = int(self.path.removeprefix("/hop/"))
            self._redirect(f"/hop/{left - 1}" if left else "/log.csv")
        elif self.path == "/to-file":
            self._redirect("file:///etc/passwd")
        elif self.path == "/endless":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(1024):  # 64 MB at most, so an unbounded reader still ends
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                    Handler.sent += len(CHUNK)
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client stopped reading: what we want
        else:
            body = b"Time,Car,Penalty\n10:00,7,Warning\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.sent = 0
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.10",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_our_own_addresses_are_refused(address: str) -> None:
    assert refused_address(ipaddress.ip_address(address)) is not None


def test_public_addresses_are_fetched() -> None:
    for address in ("93.184.215.14", "2606:4700:4700::1111"):
        assert refused_address(ipaddress.ip_address(address)) is None


async def test_loopback_and_names_that_resolve_to_it_are_refused(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    async with httpx.AsyncClient() as client:
        for url in (
            f"{server}/log.csv",
            f"http://localhost:{port}/log.csv",
            f"http://[::1]:{port}/",
        ):
            with pytest.raises(FetchRefused, match="loopback"):
                await fetch(client, url, max_bytes=1 << 20, allow_private=False)
        allowed = await fetch(client, f"{server}/log.csv", max_bytes=1 << 20, allow_private=True)
    assert allowed.status == 200 and allowed.body.startswith(b"Time,Car")


async def test_redirects_are_bounded_and_each_hop_checked(server: str) -> None:
    async with httpx.AsyncClient() as client:
        followed = await fetch(client, f"{server}/hop/2", max_bytes=1 << 20, allow_private=True)
        assert followed.status == 200 and b"Warning" in followed.body
        with pytest.raises(FetchRefused, match="redirects"):
            await fetch(client, f"{server}/hop/5", max_bytes=1 << 20, allow_private=True)
        with pytest.raises(FetchRefused, match="http"):
            await fetch(client, f"{server}/to-file", max_bytes=1 << 20, allow_private=True)


async def test_the_body_is_cut_at_the_cap_not_read_whole(server: str) -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(TooLarge):
            await fetch(client, f"{server}/endless", max_bytes=1 << 20, allow_private=True)
    assert Handler.sent < 16 << 20  # the server was stopped early, not drained
