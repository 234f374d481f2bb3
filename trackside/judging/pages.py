"""``/judge/``: the judges' own phone page (no install, works offline), and its files.

Plain HTML, script and stylesheet from this package; nothing from a CDN, nothing to build. The
service worker is served from ``/judge/`` so its scope covers the page. The page needs no
token: it logs in itself (``/api/token/``), and the API checks every call.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).resolve().parent / "static"
FILES = {
    "judge.js": "text/javascript",
    "judge.css": "text/css",
    "sw.js": "text/javascript",
}
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/judge")
async def judge_redirect() -> RedirectResponse:
    return RedirectResponse("/judge/", status_code=308)


@router.get("/judge/")
async def judge_page() -> FileResponse:
    return FileResponse(STATIC / "judge.html", media_type="text/html", headers=NO_CACHE)


def _file(name: str):  # type: ignore[no-untyped-def]
    async def serve() -> FileResponse:
        return FileResponse(STATIC / name, media_type=FILES[name], headers=NO_CACHE)

    serve.__name__ = f"judge_{name.replace('.', '_')}"
    return serve


for _name in FILES:
    router.add_api_route(f"/judge/{_name}", _file(_name), methods=["GET"])
