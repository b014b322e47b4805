from __future__ import annotations

import dramatiq

from pipeline.errors import PipelineError


@dramatiq.actor(
    actor_name="generation_job_run",
    queue_name="gpu",
    max_retries=2,
    min_backoff=5000,
    time_limit=3_600_000,
    throws=(PipelineError,),
)
def generation_job_run_task(job_id: int) -> None:
    from apps.generation.services import generation_job_run

    generation_job_run(job_id=job_id)
