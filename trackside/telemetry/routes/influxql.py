"""``/query``: the InfluxQL subset in InfluxDB 1.x's JSON shape, so Grafana's InfluxDB data
source, the ``influxdb`` client and Telegraf's database check read trackside directly."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from trackside.accounts import roles
from trackside.api.deps import DbDep, PlatformDep
from trackside.telemetry import influxql, service
from trackside.telemetry.access import ERRORS, InfluxRoute, Reader, influx_error
from trackside.telemetry.statements import EPOCHS, Answerer

router = APIRouter(tags=["telemetry"], route_class=InfluxRoute)

RESULTS = {
    "description": "One result per statement; a statement that fails carries its error",
    "content": {
        "application/json": {
            "example": {
                "results": [
                    {
                        "statement_id": 0,
                        "series": [
                            {
                                "name": "car",
                                "columns": ["time", "mean"],
                                "values": [["2024-12-04T21:00:00Z", 212.4]],
                            }
                        ],
                    }
                ]
            }
        }
    },
}
QUERY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: RESULTS,
    400: {"description": "The query is not InfluxQL of the served subset (``{error}``)"},
    **{k: v for k, v in ERRORS.items() if k != 429},
}


async def _answer(
    request: Request,
    principal: Any,
    platform: Any,
    db: Any,
    q: str | None,
    database: str | None,
    epoch: str | None,
) -> JSONResponse:
    if request.method == "POST" and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        form = await request.form()
        q = q or _text(form.get("q"))
        database = database or _text(form.get("db"))
        epoch = epoch or _text(form.get("epoch"))
    if not q:
        return influx_error(400, "invalid", 'missing required parameter "q"')
    if epoch is not None and epoch not in EPOCHS:
        return influx_error(400, "invalid", f"epoch must be one of {', '.join(EPOCHS)}")
    now = service.now_ns()
    try:
        statements = influxql.parse(q, now)
    except influxql.QueryError as exc:
        return influx_error(400, "invalid", f"error parsing query: {exc}")
    answerer = Answerer(
        platform.telemetry,
        db,
        database,
        epoch,
        now_ns=now,
        may_write=roles.can_write_telemetry(principal),
        user_id=principal.id if principal.is_user else None,
    )
    return JSONResponse(await answerer.run(statements))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


Q = Annotated[
    str | None, Query(min_length=1, description="InfluxQL; several statements split by ;")
]
DB = Annotated[str | None, Query(alias="db", description="The bucket")]
EPOCH = Annotated[
    str | None, Query(description="Times as epoch integers in ns, u, ms, s, m or h; else RFC 3339")
]


async def query(
    request: Request,
    principal: Reader,
    platform: PlatformDep,
    db: DbDep,
    q: Q = None,
    database: DB = None,
    epoch: EPOCH = None,
) -> JSONResponse:
    """InfluxQL reads: ``SELECT mean|min|max|last|count(field) … GROUP BY time(…), tag``, raw
    ``SELECT field …``, and ``SHOW DATABASES|MEASUREMENTS|FIELD KEYS|TAG KEYS|TAG VALUES``;
    ``CREATE DATABASE`` (level 5), which Telegraf sends before writing. Parameters in the query
    string or (POST) a form body. Credentials as InfluxDB 1.x takes them: ``u``/``p``, HTTP
    Basic (the token as password), or ``Authorization: Token|Bearer``."""
    return await _answer(request, principal, platform, db, q, database, epoch)


for method in ("GET", "POST"):
    router.add_api_route(
        "/query",
        query,
        methods=[method],
        responses=QUERY_RESPONSES,
        operation_id=f"influxql_{method.lower()}",
    )
