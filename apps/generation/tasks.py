from __future__ import annotations

import dramatiq

from apps.generation.notifications import approval_mails_send
from apps.generation.services import (
    JobBusy,
    generation_job_run,
    generation_jobs_sweep,
    headshot_print_make,
)
from pipeline.errors import PipelineError

MAX_RETRIES = 2


def _retry_when(retries: int, exception: BaseException) -> bool:
    """Waiting for a lease to run out is not a failure: it never uses up the retries."""
    return isinstance(exception, dramatiq.Retry) or retries < MAX_RETRIES


@dramatiq.actor(
    actor_name="generation_job_run",
    queue_name="gpu",
    retry_when=_retry_when,
    min_backoff=5000,
    time_limit=3_600_000,
    throws=(PipelineError,),
)
def generation_job_run_task(job_id: int) -> None:
    try:
        generation_job_run(job_id=job_id)
    except JobBusy as busy:
        raise dramatiq.Retry(str(busy), delay=int(busy.retry_in_s * 1000)) from busy


@dramatiq.actor(
    actor_name="headshot_print_make",
    queue_name="gpu",
    max_retries=MAX_RETRIES,
    min_backoff=5000,
    time_limit=1_800_000,
    throws=(PipelineError,),
)
def headshot_print_make_task(headshot_id: int) -> None:
    headshot_print_make(headshot_id=headshot_id)


@dramatiq.actor(
    actor_name="generation_jobs_sweep", queue_name="cpu", max_retries=0, time_limit=300_000
)
def generation_jobs_sweep_task() -> None:
    generation_jobs_sweep()


@dramatiq.actor(actor_name="approval_mails", queue_name="cpu", max_retries=3)
def approval_mails_task() -> None:
    approval_mails_send()
