"""The generation app's writes, in three rooms:

- ``jobs``       the job state machine, requests (create, cancel, requeue), dispatch, sweep
- ``runner``     a worker running a job: claim, lease, the pipeline's run, storing results
- ``headshots``  pick, approve, reject; a person's headshots withdrawn or deleted
- ``prints``     the print version of a picked headshot, made by a worker
"""

from __future__ import annotations

from apps.generation.services.headshots import (
    employee_headshots_delete,
    headshot_approve,
    headshot_pick,
    headshot_reject,
)
from apps.generation.services.jobs import (
    GAVE_UP_REASON,
    JobStopped,
    employee_jobs_stop,
    generation_job_cancel,
    generation_job_create,
    generation_job_requeue,
    generation_job_requeue_dead_letter,
    generation_jobs_dispatch,
    generation_jobs_sweep,
    job_progress,
    job_transition,
    worker_name,
)
from apps.generation.services.prints import headshot_print_make, headshot_print_request
from apps.generation.services.runner import JobBusy, generation_job_run

__all__ = [
    "GAVE_UP_REASON",
    "JobBusy",
    "JobStopped",
    "employee_headshots_delete",
    "employee_jobs_stop",
    "generation_job_cancel",
    "generation_job_create",
    "generation_job_requeue",
    "generation_job_requeue_dead_letter",
    "generation_job_run",
    "generation_jobs_dispatch",
    "generation_jobs_sweep",
    "headshot_approve",
    "headshot_pick",
    "headshot_print_make",
    "headshot_print_request",
    "headshot_reject",
    "job_progress",
    "job_transition",
    "worker_name",
]
