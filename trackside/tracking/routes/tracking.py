"""trackside's own tracking resources: devices, an event's tracked participants and settings,
and an account's sharing switch."""

from __future__ import annotations

from fastapi import APIRouter, status

from trackside.api.deps import CurrentUser, DbDep, ManagedEvent, PlatformDep
from trackside.tracking import service
from trackside.tracking.schemas import (
    DeviceIn,
    DeviceOut,
    ParticipantIn,
    ParticipantOut,
    SharingIn,
    SharingOut,
    TrackingSettingsIn,
    TrackingSettingsOut,
)

router = APIRouter(tags=["tracking"])

REFUSED = {
    401: {"description": "No or bad bearer token"},
    403: {"description": "Not allowed"},
}


@router.post(
    "/api/tracking/devices",
    status_code=status.HTTP_201_CREATED,
    response_model=DeviceOut,
    responses={
        **REFUSED,
        409: {"description": "A device with this id exists"},
        422: {"description": "Invalid body"},
    },
)
async def create_device(body: DeviceIn, principal: CurrentUser, db: DbDep) -> DeviceOut:
    """Bind a tracker to your account. The token (shown once) is its OwnTracks password, and its
    OsmAnd ``id`` when no ``deviceId`` is given."""
    made = await service.create_device(db, principal.id, body.deviceId)
    return DeviceOut(id=made.device.id, deviceId=made.device.device_id, token=made.token)


@router.put("/api/tracking/sharing", response_model=SharingOut, responses=REFUSED)
async def set_sharing(
    body: SharingIn, principal: CurrentUser, platform: PlatformDep, db: DbDep
) -> SharingOut:
    """Pause (or resume) sharing your position: while paused nobody else sees it."""
    profile = await service.set_sharing(db, principal.id, body.paused)
    platform.tracking.participants_changed()
    return SharingOut(paused=profile.sharing_paused)


@router.post(
    "/events/{eventId}/tracking/participants",
    status_code=status.HTTP_201_CREATED,
    response_model=ParticipantOut,
    responses={
        **REFUSED,
        404: {"description": "No such event"},
        409: {"description": "Tracked already"},
        422: {"description": "No such account"},
    },
)
async def add_participant(
    body: ParticipantIn, event: ManagedEvent, platform: PlatformDep, db: DbDep
) -> ParticipantOut:
    """Track an account in the event (organizers): its fixes within the event's dates show on
    the event's map and count for its checkpoints."""
    row = await service.add_participant(db, event.id, body.username)
    platform.tracking.participants_changed()
    return ParticipantOut(
        id=row.id, eventId=row.event_id, userId=row.user_id, username=body.username
    )


@router.get(
    "/events/{eventId}/tracking/settings",
    response_model=TrackingSettingsOut,
    responses={**REFUSED, 404: {"description": "No such event"}},
)
async def get_settings(event: ManagedEvent, db: DbDep) -> TrackingSettingsOut:
    """Whether the event's map is public, and how many days after the event fixes are kept."""
    row = await service.settings_of(db, event.id)
    return TrackingSettingsOut(
        eventId=event.id, mapPublic=row.map_public, retentionDays=row.retention_days
    )


@router.put(
    "/events/{eventId}/tracking/settings",
    response_model=TrackingSettingsOut,
    responses={**REFUSED, 404: {"description": "No such event"}},
)
async def put_settings(
    body: TrackingSettingsIn, event: ManagedEvent, db: DbDep
) -> TrackingSettingsOut:
    """Set them (organizers)."""
    row = await service.put_settings(db, event.id, body.mapPublic, body.retentionDays)
    return TrackingSettingsOut(
        eventId=event.id, mapPublic=row.map_public, retentionDays=row.retention_days
    )
