"""Web pages: the events list at ``/`` and the live board at ``/events/{id}``.

``/events/{id}`` is also the Status API's event: a browser (``Accept: text/html``) gets the
board, API clients get JSON. Pages need no token; what they show is public, and the board's
WebSocket enforces access to private events itself.
"""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trackside.api.deps import DbDep
from trackside.events import service as events
from trackside.web.pages import EventLink, board_page, index_page, not_found_page

router = APIRouter(include_in_schema=False)

_EVENT_PAGE = re.compile(r"^/events/(\d{1,10})/?$")


def _wants_html(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            accept = value.decode("latin-1").lower()
            return "text/html" in accept and not accept.startswith("application/json")
    return False


class PageNegotiation:
    """Send browsers asking for ``/`` or ``/events/{id}`` to the HTML pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        match = _EVENT_PAGE.match(path)
        if not (path == "/" or match):
            await self.app(scope, receive, send)
            return
        if _wants_html(scope):
            target = "/pages/" if path == "/" else f"/pages/events/{match.group(1)}"
            scope = {**scope, "path": target, "raw_path": target.encode()}
        await self.app(scope, receive, _vary_on_accept(send))


def _vary_on_accept(send: Send) -> Send:
    """The same URL answers HTML or JSON by ``Accept``: caches must key on it too."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            vary = [value for name, value in headers if name.lower() == b"vary"]
            named = {item.strip() for value in vary for item in value.lower().split(b",")}
            if b"accept" not in named:
                headers = [(n, v) for n, v in headers if n.lower() != b"vary"]
                headers.append((b"vary", b", ".join([*vary, b"Accept"])))
            message = {**message, "headers": headers}
        await send(message)

    return sending


@router.get("/", response_class=HTMLResponse)
@router.get("/pages/", response_class=HTMLResponse)
async def events_page(db: DbDep) -> HTMLResponse:
    links = [
        EventLink(event.id, event.name, event.location, event.start_date, live)
        for event, live in await events.public_events(db)
    ]
    return HTMLResponse(index_page(links))


@router.get("/pages/events/{event_id}", response_class=HTMLResponse)
async def event_page(event_id: int, db: DbDep) -> HTMLResponse:
    event = await events.find_event(db, event_id)
    if event is None:
        return HTMLResponse(not_found_page(f"There is no event {event_id}."), status_code=404)
    return HTMLResponse(board_page(event.id, event.name))
