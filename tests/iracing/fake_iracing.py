"""A local fake of iRacing's OAuth server and ``/data`` API, on a loopback port.

It does what protocols.md (e) documents, and checks what a client must get right:

- ``GET /oauth2/authorize``: the registered ``redirect_uri`` exactly, ``response_type=code``,
  ``code_challenge_method=S256`` and a challenge; a consent page (or straight approval) that
  redirects with ``code`` and ``state``, or ``error=access_denied``.
- ``POST /oauth2/token``: a form body only (HTTP Basic refused), the client secret masked
  (``base64(sha256(secret + lower(trim(client_id))))``), the code single-use and bound to its
  redirect URI, ``sha256(code_verifier)`` equal to the challenge; refresh tokens single-use.
- ``GET /oauth2/iracing/profile`` with the ``iracing.profile`` scope.
- ``/data/...``: Bearer required (401 once the access token expired), answers a ``link`` to a
  pre-signed URL (``/s3/...``) that refuses an ``Authorization`` header, searches and lap data
  in ``chunk_info`` chunks, ``x-ratelimit-*`` headers on every answer, a 429 when told to, and
  503 while in maintenance.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "UnitTestApp"
CLIENT_SECRET = "Secret-Client-Password"
MEMBER_ID = 15535
MEMBER_NAME = "Ana Diaz"


def masked(secret: str, identity: str) -> str:
    digest = hashlib.sha256((secret + identity.strip().lower()).encode()).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Grant:
    code: str
    challenge: str
    redirect_uri: str
    scope: str
    cust_id: int
    used: bool = False


@dataclass
class FakeState:
    """Everything the fake knows; tests read and script it."""

    base_url: str = ""
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    redirect_uris: set[str] = field(default_factory=set)
    member: tuple[int, str] = (MEMBER_ID, MEMBER_NAME)
    auto_approve: bool = True
    access_ttl_s: int = 600
    refresh_ttl_s: int = 3600
    grants: dict[str, Grant] = field(default_factory=dict)
    pending: dict[str, dict[str, str]] = field(default_factory=dict)  # consent page requests
    access: dict[str, tuple[float, int, str]] = field(default_factory=dict)  # exp, cust, scope
    refresh: dict[str, tuple[int, str, bool]] = field(default_factory=dict)  # cust, scope, used
    blobs: dict[str, Any] = field(default_factory=dict)
    token_forms: list[dict[str, str]] = field(default_factory=list)
    data_calls: list[str] = field(default_factory=list)
    data_call_times: list[float] = field(default_factory=list)  # epoch seconds, per data call
    announced_resets: list[int] = field(default_factory=list)  # x-ratelimit-reset of each 429
    blob_calls: list[str] = field(default_factory=list)
    rate_limit: int = 240
    rate_remaining: int = 240
    rate_reset_in_s: float = 1.0
    limit_next: int = 0  # data calls to answer 429
    maintenance: int = 0  # data calls to answer 503
    fail_next: int = 0  # data calls to answer 500
    documents: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access = {t: (0.0, c, s) for t, (_, c, s) in self.access.items()}


def _error(code: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description}, status_code=status)


def build_app(state: FakeState) -> Starlette:
    def redirect_with(uri: str, **params: str) -> RedirectResponse:
        return RedirectResponse(f"{uri}?{urlencode(params)}", status_code=302)

    def approve(request_id: str) -> Response:
        params = state.pending.pop(request_id, None)
        if params is None:
            return Response("unknown authorization request", status_code=400)
        code = secrets.token_urlsafe(24)
        state.grants[code] = Grant(
            code,
            params["code_challenge"],
            params["redirect_uri"],
            params["scope"],
            state.member[0],
        )
        return redirect_with(params["redirect_uri"], code=code, state=params["state"])

    async def authorize(request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != state.client_id:
            return Response("unknown client", status_code=400)
        if q.get("redirect_uri") not in state.redirect_uris:
            return Response("redirect_uri is not registered", status_code=400)
        if q.get("response_type") != "code":
            return redirect_with(q["redirect_uri"], error="unsupported_response_type")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return redirect_with(
                q["redirect_uri"], error="invalid_request", state=q.get("state", "")
            )
        request_id = secrets.token_urlsafe(12)
        state.pending[request_id] = {
            "code_challenge": q["code_challenge"],
            "redirect_uri": q["redirect_uri"],
            "scope": q.get("scope", ""),
            "state": q.get("state", ""),
        }
        if state.auto_approve:
            return approve(request_id)
        return HTMLResponse(
            "<!doctype html><title>iRacing (fake) - authorize</title>"
            f"<h1>Allow trackside to use your iRacing account?</h1>"
            f"<p>Signed in as {state.member[1]}</p>"
            f'<a id="approve" href="/oauth2/authorize/decide?req={request_id}&ok=1">Allow</a> '
            f'<a id="deny" href="/oauth2/authorize/decide?req={request_id}&ok=0">Deny</a>'
        )

    async def decide(request: Request) -> Response:
        request_id = request.query_params.get("req", "")
        if request.query_params.get("ok") == "1":
            return approve(request_id)
        params = state.pending.pop(request_id, None)
        if params is None:
            return Response("unknown authorization request", status_code=400)
        return redirect_with(params["redirect_uri"], error="access_denied", state=params["state"])

    def issue(cust_id: int, scope: str) -> JSONResponse:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        state.access[access] = (time.time() + state.access_ttl_s, cust_id, scope)
        state.refresh[refresh] = (cust_id, scope, False)
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": state.access_ttl_s,
                "refresh_token": refresh,
                "refresh_token_expires_in": state.refresh_ttl_s,
                "scope": scope,
            }
        )

    async def token(request: Request) -> Response:
        if request.headers.get("authorization", "").lower().startswith("basic"):
            return _error("invalid_client", "send client_id and client_secret in the form body")
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return _error("invalid_request", "the token request is a form")
        form = {k: str(v) for k, v in (await request.form()).items()}
        with state.lock:
            state.token_forms.append(form)
        if form.get("client_id") != state.client_id:
            return _error("invalid_client", "unknown client", 401)
        if form.get("client_secret") != masked(state.client_secret, state.client_id):
            return _error("invalid_client", "the client secret is wrong or not masked", 401)
        grant_type = form.get("grant_type")
        with state.lock:
            if grant_type == "authorization_code":
                grant = state.grants.get(form.get("code", ""))
                if grant is None or grant.used:
                    if grant is not None:  # a code replayed: what it issued is revoked too
                        state.access = {
                            t: v for t, v in state.access.items() if v[1] != grant.cust_id
                        }
                    return _error("invalid_grant", "unknown or used code")
                grant.used = True
                if form.get("redirect_uri") != grant.redirect_uri:
                    return _error("invalid_grant", "redirect_uri differs from the authorize one")
                verifier = form.get("code_verifier", "")
                computed = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                    .rstrip(b"=")
                    .decode()
                )
                if not 43 <= len(verifier) <= 128 or computed != grant.challenge:
                    return _error("invalid_grant", "code_verifier does not match the challenge")
                return issue(grant.cust_id, grant.scope)
            if grant_type == "refresh_token":
                held = state.refresh.get(form.get("refresh_token", ""))
                if held is None or held[2]:
                    return _error("invalid_grant", "unknown or already used refresh token")
                state.refresh[form["refresh_token"]] = (held[0], held[1], True)
                return issue(held[0], held[1])
        return _error("unsupported_grant_type", str(grant_type))

    def bearer(request: Request) -> tuple[int, str] | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return None
        held = state.access.get(header[7:])
        if held is None or held[0] < time.time():
            return None
        return held[1], held[2]

    async def profile(request: Request) -> Response:
        who = bearer(request)
        if who is None:
            return _error("invalid_token", "expired or unknown access token", 401)
        if "iracing.profile" not in who[1].split():
            return _error("insufficient_scope", "needs iracing.profile", 403)
        return JSONResponse({"iracing_name": state.member[1], "iracing_cust_id": who[0]})

    def limited_headers() -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(state.rate_limit),
            "x-ratelimit-remaining": str(state.rate_remaining),
            "x-ratelimit-reset": str(int(time.time() + state.rate_reset_in_s)),
        }

    def link_to(payload: Any) -> dict[str, str]:
        key = secrets.token_hex(8)
        state.blobs[key] = payload
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 900))
        return {
            "link": f"{state.base_url}/s3/{key}?X-Amz-Signature={secrets.token_hex(8)}",
            "expires": expires,
        }

    def chunked(rows: list[Any], size: int = 2) -> dict[str, Any]:
        names = []
        for start in range(0, len(rows), size):
            name = f"chunk_{secrets.token_hex(4)}.json"
            state.blobs[f"chunks/{name}"] = rows[start : start + size]
            names.append(name)
        if not rows:
            return {}
        return {
            "chunk_size": size,
            "num_chunks": len(names),
            "rows": len(rows),
            "base_download_url": f"{state.base_url}/s3/chunks/",
            "chunk_file_names": names,
        }

    def answer(path: str, q: dict[str, str], cust_id: int) -> Any:
        docs = state.documents
        if path == "league/membership":
            return docs.get("leagues", [])
        if path == "league/seasons":
            return {"league_id": int(q["league_id"]), "seasons": docs.get("seasons", [])}
        if path == "league/season_sessions":
            key = f"season_sessions/{q['league_id']}/{q['season_id']}"
            return {"success": True, "sessions": docs.get(key, [])}
        if path == "results/search_hosted":
            info = chunked(docs.get("hosted", []))
            data: dict[str, Any] = {"success": True}
            if info:
                data["chunk_info"] = info
            return {"type": "search_hosted", "data": data}
        if path == "results/get":
            found = docs.get(f"results/{q.get('subsession_id')}")
            return found if found is not None else {"_missing": True}
        if path == "results/lap_data":
            laps = docs.get(f"laps/{q.get('subsession_id')}/{q.get('cust_id')}", [])
            doc: dict[str, Any] = {"success": True, "session_info": {}}
            info = chunked(laps, size=3)
            if info:
                doc["chunk_info"] = info
            return doc
        return {"_missing": True}

    async def data(request: Request) -> Response:
        path = request.path_params["path"]
        with state.lock:
            state.data_calls.append(path)
            state.data_call_times.append(time.time())
            if state.maintenance > 0:
                state.maintenance -= 1
                return JSONResponse({"error": "Site Maintenance"}, status_code=503)
            who = bearer(request)
            if who is None:
                return JSONResponse({"error": "Unauthorized"}, status_code=401)
            if state.limit_next > 0:
                state.limit_next -= 1
                state.rate_remaining = 0
                headers = limited_headers()
                state.announced_resets.append(int(headers["x-ratelimit-reset"]))
                return JSONResponse(
                    {"error": "Rate limit exceeded"}, status_code=429, headers=headers
                )
            if state.fail_next > 0:
                state.fail_next -= 1
                return JSONResponse({"error": "boom"}, status_code=500)
            state.rate_remaining = max(0, state.rate_remaining - 1) or state.rate_limit
            doc = answer(path, dict(request.query_params), who[0])
            if isinstance(doc, dict) and doc.get("_missing"):
                return JSONResponse(
                    {"error": "Not Found"}, status_code=404, headers=limited_headers()
                )
            return JSONResponse(link_to(doc), headers=limited_headers())

    async def s3(request: Request) -> Response:
        key = request.path_params["key"]
        with state.lock:
            state.blob_calls.append(key)
        if "authorization" in request.headers:
            return Response(
                "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed"
                "</Message></Error>",
                status_code=400,
                media_type="application/xml",
            )
        if key not in state.blobs:
            return Response("<Error><Code>NoSuchKey</Code></Error>", status_code=404)
        return JSONResponse(state.blobs[key])

    return Starlette(
        routes=[
            Route("/oauth2/authorize", authorize),
            Route("/oauth2/authorize/decide", decide),
            Route("/oauth2/token", token, methods=["POST"]),
            Route("/oauth2/iracing/profile", profile),
            Route("/data/{path:path}", data),
            Route("/s3/{key:path}", s3),
        ]
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(state: FakeState | None = None) -> Iterator[FakeState]:
    """The fake on a loopback port, in a thread, for the ``with`` block."""
    state = state or FakeState()
    port = _free_port()
    state.base_url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        build_app(state), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake iRacing did not start")
        time.sleep(0.02)
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=10)
