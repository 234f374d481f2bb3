"""Location reports over REST: ``POST/GET /api/location-reports/`` and ``…/latest/``.

Answers as Django REST framework does: pages ``{count, next, previous, results}`` (``page``,
``page_size``), bad input 400 ``{"field": ["message"]}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from pydantic import BeforeValidator

from trackside.accounts import people as accounts
from trackside.api.deps import CurrentUser, DbDep, PlatformDep
from trackside.errors import Invalid, NotFound
from trackside.tracking import reports
from trackside.tracking.drf import BAD_REQUEST, DrfRoute
from trackside.tracking.fixes import REST, BadFix, read_update
from trackside.tracking.reports import Filters
from trackside.tracking.schemas import LocationReportIn, LocationReportOut, LocationReportPage

router = APIRouter(prefix="/api/location-reports", tags=["tracking"], route_class=DrfRoute)

MAX_PAGE_SIZE = 1000


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=LocationReportOut,
    responses=BAD_REQUEST,
)
async def create_report(
    body: LocationReportIn, principal: CurrentUser, platform: PlatformDep, db: DbDep
) -> LocationReportOut:
    """Store one fix of the caller's own (its time: ``timestamp``, else now)."""
    try:
        fix = read_update(body.model_dump(exclude_none=True), principal.id, REST)
    except BadFix as exc:
        raise Invalid(exc.field, exc.message) from None
    stored = await platform.tracking.writer.write(fix)
    return LocationReportOut.of(await reports.get(db, stored.id))


async def _filters(
    db: DbDep,
    user: str | None,
    event: int | None,
    since: datetime | None,
    until: datetime | None,
) -> Filters:
    user_id = None
    if user is not None:
        if user.isdigit():
            user_id = int(user)
        else:
            try:
                user_id = (await accounts.by_username(db, user)).id
            except NotFound:
                raise Invalid("user", f"No account named {user!r}.") from None
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise Invalid(name, "Give the time with a zone (e.g. Z).")
    return Filters(user_id=user_id, event_id=event, since=since, until=until)


UserFilter = Annotated[str | None, Query(max_length=40, description="An account's id or username.")]
EventFilter = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="Fixes counted in this event.")
]


def _date_time_text(value: Any) -> Any:
    """The filters are date-times, as the schema says: a bare number (epoch? which unit?) is
    refused rather than read as seconds."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError("an ISO 8601 date-time, not a number")
    return value


DateTimeText = BeforeValidator(_date_time_text)
Since = Annotated[datetime | None, DateTimeText, Query(description="Fixes at or after this time.")]
Until = Annotated[datetime | None, DateTimeText, Query(description="Fixes at or before this time.")]


@router.get("/", response_model=LocationReportPage, responses=BAD_REQUEST)
async def list_reports(
    request: Request,
    principal: CurrentUser,
    db: DbDep,
    user: UserFilter = None,
    event: EventFilter = None,
    since: Since = None,
    until: Until = None,
    page: Annotated[int, Query(ge=1, le=10**7)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
) -> LocationReportPage:
    """The fixes the caller may read (its own; its events' participants' if it organizes
    them), newest first by the fix's own time."""
    filters = await _filters(db, user, event, since, until)
    rows, total = await reports.page(db, principal, filters, (page - 1) * page_size, page_size)
    nxt = prev = None
    if page * page_size < total:
        nxt = str(request.url.include_query_params(page=page + 1, page_size=page_size))
    if page > 1:
        prev = str(request.url.include_query_params(page=page - 1, page_size=page_size))
    return LocationReportPage(
        count=total,
        next=nxt,
        previous=prev,
        results=[LocationReportOut.of(row) for row in rows],
    )


@router.get("/latest/", response_model=list[LocationReportOut], responses=BAD_REQUEST)
async def latest_reports(
    principal: CurrentUser,
    db: DbDep,
    user: UserFilter = None,
    event: EventFilter = None,
    since: Since = None,
    until: Until = None,
) -> list[LocationReportOut]:
    """The latest readable fix of each account, by the fix's own time."""
    filters = await _filters(db, user, event, since, until)
    return [LocationReportOut.of(row) for row in await reports.latest(db, principal, filters)]
