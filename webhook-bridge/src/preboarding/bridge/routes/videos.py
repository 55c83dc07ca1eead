"""``GET /videos/{job_id}.mp4``: a redirect to a fresh presigned URL of the finished video."""

from __future__ import annotations

import datetime as dt
import logging

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse

from preboarding.bridge.deps import RepositoryDep, StateDep, StoreDep, call_store, rate_limit, read_access
from preboarding.bridge.errors import ApiError
from preboarding.bridge.job_status import status_of
from preboarding.bridge.routes import error_responses

log = logging.getLogger(__name__)

router = APIRouter(tags=["videos"], dependencies=[Depends(rate_limit), Depends(read_access)])


@router.get(
    "/videos/{job_id}.mp4",
    status_code=307,
    response_class=RedirectResponse,
    summary="The finished video: 307 to a presigned URL, 409 while it renders, 404 until it exists",
    responses={307: {"description": "Location: a presigned URL of the MP4, valid for a while."},
               **error_responses(401, 404, 409, 429, 502, 503)},
)
async def get_video(job_id: str, state: StateDep, repository: RepositoryDep, store: StoreDep) -> RedirectResponse:
    resource = await repository.get(job_id)
    if resource is None:
        raise ApiError(404, "job_not_found", "no job with this id")
    status = status_of(resource)
    if status.phase != "Succeeded":
        if status.phase == "Failed":
            message = f"the video failed; POST /jobs/{job_id}/retry to try again"
        else:
            message = f"the video is still rendering ({status.progress or 'starting'}); retry later"
        raise ApiError(409, "video_not_ready", message, phase=status.phase)
    key = status.video_key
    # The key comes from the resource's status; only ever presign this video's own objects.
    own_prefix = f"{state.settings.namespace}/{job_id}/"
    if not key or not key.startswith(own_prefix):
        if key:
            log.warning("video %s: status.videoKey is outside %s; not served", job_id, own_prefix)
        raise ApiError(404, "video_not_found", "the job succeeded but names no video")
    timeout = state.settings.kube_timeout_seconds
    if not await call_store(lambda: store.exists(key), timeout):
        raise ApiError(404, "video_not_found", "the video is not in the store")
    expires = dt.timedelta(seconds=state.settings.presign_expiry_seconds)
    url = await call_store(lambda: store.presigned_get_url(key, expires), timeout)
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
