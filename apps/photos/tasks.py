from __future__ import annotations

import dramatiq

from apps.photos.retention import retention_purge
from apps.photos.services import photo_check_run
from pipeline.errors import PipelineError


@dramatiq.actor(
    actor_name="photo_check",
    queue_name="cpu",
    max_retries=3,
    min_backoff=1000,
    throws=(PipelineError,),
)
def photo_check(photo_id: int) -> None:
    photo_check_run(photo_id=photo_id)


@dramatiq.actor(actor_name="retention_purge", queue_name="cpu", max_retries=3, time_limit=3_600_000)
def retention_purge_task() -> None:
    retention_purge()
