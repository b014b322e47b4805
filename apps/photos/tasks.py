from __future__ import annotations

import dramatiq

from pipeline.errors import PipelineError


@dramatiq.actor(
    actor_name="photo_check",
    queue_name="cpu",
    max_retries=3,
    min_backoff=1000,
    throws=(PipelineError,),
)
def photo_check(photo_id: int) -> None:
    from apps.photos.services import photo_check_run

    photo_check_run(photo_id=photo_id)
