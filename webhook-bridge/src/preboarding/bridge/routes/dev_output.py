"""``GET /dev_output/{job_id}/``: a job's stored intermediate files with presigned links.

Only mounted when ``PREBOARDING_DEV_OUTPUT_ENABLED`` is true, and authenticated: the script, audio and
slides are the new hire's personal data.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends

from preboarding.api.layout import video_prefix
from preboarding.bridge.deps import CallerDep, RepositoryDep, StateDep, StoreDep, call_store, rate_limit
from preboarding.bridge.errors import ApiError
from preboarding.bridge.job_status import status_of
from preboarding.bridge.models import DevOutput, StoredFile
from preboarding.bridge.routes import error_responses

router = APIRouter(tags=["dev_output"], dependencies=[Depends(rate_limit)])


def kind_of(relative_key: str) -> str:
    """``records/script.json`` -> records, ``script.json`` -> script, ``audio/alex-01.wav`` -> audio."""
    head = relative_key.split("/", 1)[0]
    return head.split(".", 1)[0] or "other"


@router.get(
    "/dev_output/{job_id}/",
    response_model=DevOutput,
    summary="Stored intermediate files of a job (script, audio, slides, records) with presigned links",
    responses=error_responses(401, 404, 429, 502, 503),
)
async def dev_output(
    job_id: str, caller: CallerDep, state: StateDep, repository: RepositoryDep, store: StoreDep
) -> DevOutput:
    resource = await repository.get(job_id)
    if resource is None:
        raise ApiError(404, "job_not_found", "no job with this id")
    namespace = state.settings.namespace
    status = status_of(resource)
    prefix = status.storage_prefix or video_prefix(namespace, job_id, resource["metadata"].get("uid", ""))
    if not prefix.startswith(f"{namespace}/{job_id}/"):
        raise ApiError(404, "no_output", "the job names no storage prefix of its own")
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    timeout = state.settings.kube_timeout_seconds
    objects = await call_store(lambda: store.list(prefix), timeout)
    expires = dt.timedelta(seconds=state.settings.presign_expiry_seconds)

    def presign_all() -> list[str]:
        return [store.presigned_get_url(o.key, expires) for o in objects]

    urls = await call_store(presign_all, timeout)
    files = [
        StoredFile(key=o.key[len(prefix):], kind=kind_of(o.key[len(prefix):]), size=o.size,
                   last_modified=o.last_modified, url=url)
        for o, url in zip(objects, urls, strict=True)
    ]
    return DevOutput(job_id=job_id, prefix=prefix, files=files)
