"""A minimal HTTP double of the relay ingest contract, to test the relay's *client* behaviour.

This is not trackside's server and does not stand in for it: it implements only what the
contract fixes (token by client credentials, ``POST …/records``, ``GET …/records/ack``) so the
tests can check how the relay reacts to each reply — token renewal on 401, waiting out 429
``Retry-After``, backing off on 5xx and outages, resuming from ``acked_seq``. The real
end-to-end test against the trackside server is written after the merge.

Failures are scripted with ``fail_next``; ``stop``/``start`` take the whole server down and
bring it back on the same port with its stored records (a server restart).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN_PATH = "/oauth/token"
TYPES = frozenset({"rmonitor", "p3"})


@dataclass
class Scripted:
    status: int
    headers: dict[str, str]
    body: dict[str, object]


@dataclass
class Request:
    method: str
    kind: str  # token, ack, records, other
    status: int
    seqs: list[int] = field(default_factory=list)  # of a records POST


class ContractState:
    """What the double knows; every field is read and written under ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clients: dict[str, str] = {}
        self.events: dict[str, set[str]] = {}  # event id → client ids allowed
        self.tokens: dict[str, str] = {}  # token → client id
        self.expires_in = 300
        self.max_records = 1000
        self.stored: dict[tuple[str, str], dict[int, dict[str, object]]] = defaultdict(dict)
        self.requests: list[Request] = []
        self.script: dict[str, list[Scripted]] = defaultdict(list)

    def acked(self, event: str, source: str) -> int:
        seqs = self.stored[(event, source)]
        n = 0
        while n + 1 in seqs:
            n += 1
        return n


class _Handler(BaseHTTPRequestHandler):
    state: ContractState  # set on the subclass made per server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _reply(
        self,
        kind: str,
        status: int,
        body: dict[str, object],
        headers: dict[str, str] | None = None,
        seqs: list[int] | None = None,
    ) -> None:
        self.state.requests.append(Request(self.command, kind, status, seqs or []))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _route(self) -> tuple[str, str | None]:
        path = urlsplit(self.path).path
        if path == TOKEN_PATH:
            return "token", None
        parts = path.strip("/").split("/")
        if parts[:2] == ["relay", "events"] and parts[3:] == ["records"]:
            return "records", parts[2]
        if parts[:2] == ["relay", "events"] and parts[3:] == ["records", "ack"]:
            return "ack", parts[2]
        return "other", None

    def _scripted(self, kind: str) -> bool:
        if self.state.script[kind]:
            failure = self.state.script[kind].pop(0)
            self._reply(kind, failure.status, failure.body, failure.headers)
            return True
        return False

    def _client(self, kind: str, event: str) -> str | None:
        """The authorized client, or None after replying 401/403/404."""
        auth = self.headers.get("Authorization", "")
        client = self.state.tokens.get(auth.removeprefix("Bearer "))
        if not auth.startswith("Bearer ") or client is None:
            self._reply(kind, 401, {"detail": "missing or expired token"})
            return None
        if event not in self.state.events:
            self._reply(kind, 404, {"detail": "no such event"})
            return None
        if client not in self.state.events[event]:
            self._reply(kind, 403, {"detail": "client not allowed for this event"})
            return None
        return client

    def do_GET(self) -> None:
        kind, event = self._route()
        with self.state.lock:
            if kind != "ack" or event is None:
                self._reply("other", 404, {"detail": "not found"})
                return
            if self._scripted(kind) or self._client(kind, event) is None:
                return
            source = parse_qs(urlsplit(self.path).query).get("source", [""])[0]
            acked = self.state.acked(event, source)
            self._reply(kind, 200, {"source": source, "acked_seq": acked})

    def do_POST(self) -> None:
        kind, event = self._route()
        body = self._body()
        with self.state.lock:
            if kind == "token":
                if not self._scripted(kind):
                    self._token(body)
                return
            if kind != "records" or event is None:
                self._reply("other", 404, {"detail": "not found"})
                return
            if self._scripted(kind) or self._client(kind, event) is None:
                return
            self._records(event, body)

    def _token(self, body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        client = form.get("client_id", "")
        ok = (
            form.get("grant_type") == "client_credentials"
            and client in self.state.clients
            and secrets.compare_digest(self.state.clients[client], form.get("client_secret", ""))
        )
        if not ok:
            self._reply("token", 401, {"error": "invalid_client"})
            return
        token = secrets.token_urlsafe(16)
        self.state.tokens[token] = client
        reply = {"access_token": token, "expires_in": self.state.expires_in}
        self._reply("token", 200, {**reply, "token_type": "Bearer", "scope": "relay"})

    def _records(self, event: str, raw: bytes) -> None:
        try:
            body = json.loads(raw)
            source, records = body["source"], body["records"]
            assert isinstance(source, str) and 0 < len(source) <= 100
            for r in records:
                assert set(r) == {"seq", "received_at", "type", "data"}
                assert isinstance(r["seq"], int) and r["seq"] >= 1
                assert isinstance(r["received_at"], int) and isinstance(r["data"], str)
                assert r["type"] in TYPES
        except (ValueError, KeyError, TypeError, AssertionError):
            self._reply("records", 422, {"detail": "bad batch"})
            return
        if len(records) > self.state.max_records:
            self._reply("records", 413, {"detail": f"at most {self.state.max_records} records"})
            return
        stored = self.state.stored[(event, source)]
        new = [r for r in records if r["seq"] not in stored]
        for r in new:
            stored[r["seq"]] = r
        reply = {
            "source": source,
            "stored": len(new),
            "duplicates": len(records) - len(new),
            "acked_seq": self.state.acked(event, source),
        }
        self._reply("records", 200, reply, seqs=[r["seq"] for r in records])


class ContractServer:
    """The double on 127.0.0.1, in a thread; ``url`` is its base URL."""

    def __init__(self) -> None:
        self.state = ContractState()
        self.port = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Down: connections are refused until ``start`` (same port, same stored records)."""
        assert self._httpd is not None and self._thread is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._httpd = None

    def add_client(self, client_id: str, secret: str, events: list[str]) -> None:
        with self.state.lock:
            self.state.clients[client_id] = secret
            for event in events:
                self.state.events.setdefault(event, set()).add(client_id)

    def fail_next(
        self,
        kind: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: dict[str, object] | None = None,
    ) -> None:
        """The next ``times`` requests of ``kind`` (token, ack, records) get this reply."""
        with self.state.lock:
            for _ in range(times):
                self.state.script[kind].append(
                    Scripted(status, headers or {}, body or {"detail": "scripted"})
                )

    def revoke_tokens(self) -> None:
        """Every token issued so far now gets 401 (as when it expired)."""
        with self.state.lock:
            self.state.tokens.clear()

    def records(self, event: str, source: str) -> list[dict[str, object]]:
        with self.state.lock:
            stored = self.state.stored[(event, source)]
            return [stored[seq] for seq in sorted(stored)]

    def requests(self, kind: str | None = None) -> list[Request]:
        with self.state.lock:
            return [r for r in self.state.requests if kind is None or r.kind == kind]
