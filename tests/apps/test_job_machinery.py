"""Jobs survive dead workers, lost messages and cancellation, and share the GPU fairly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.errors import NotFound, PermissionDenied, StateConflict
from apps.generation.models import MAX_JOB_ATTEMPTS, GenerationJob, JobStatus
from apps.generation.services import (
    generation_job_requeue,
    generation_job_run,
    generation_jobs_dispatch,
    generation_jobs_sweep,
    worker_name,
)
from apps.organizations.models import EmployeeProfile
from tests.apps.factories import start_job
from tests.conftest import release_on_commit_hooks


def sent(broker, queue: str = "gpu") -> list[int]:
    """The job ids sent to a queue so far, in order."""
    import dramatiq

    release_on_commit_hooks()
    return [dramatiq.Message.decode(data).args[0] for data in list(broker.queues[queue].queue)]


def abandon(job: GenerationJob, *, seconds_ago: int = 3600, attempts: int = 1) -> None:
    """The job's worker was killed mid-run: running, its lease long expired."""
    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        worker="gone-host:4242",
        heartbeat_at=timezone.now() - timedelta(seconds=seconds_ago),
        attempts=attempts,
        dispatched_at=timezone.now(),
    )


def test_a_redelivered_message_takes_over_a_run_whose_worker_died(ready, stub_broker):
    job = start_job(ready)
    abandon(job)
    generation_job_run(job_id=job.pk)  # the broker redelivers the unacknowledged message
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2
    assert job.worker == worker_name() and job.headshots.count() == 4


def test_a_run_held_by_a_live_lease_is_left_alone_and_looked_at_again_later(ready, stub_broker):
    import dramatiq

    from apps.generation.tasks import _retry_when, generation_job_run_task

    job = start_job(ready)
    abandon(job, seconds_ago=1)  # its worker renewed the 90 s lease a second ago
    with pytest.raises(dramatiq.Retry) as retry:
        generation_job_run_task.fn(job.pk)
    assert 85_000 <= retry.value.delay <= 95_000  # when the lease would have run out
    assert _retry_when(50, retry.value) and not _retry_when(2, RuntimeError())
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.worker == "gone-host:4242"
    assert job.headshots.count() == 0


def test_a_job_that_keeps_killing_workers_fails_with_a_reason(ready, stub_broker):
    job = start_job(ready)
    abandon(job, attempts=MAX_JOB_ATTEMPTS)
    generation_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and f"stopped {MAX_JOB_ATTEMPTS} times" in job.error
    assert AuditEvent.objects.filter(action="job.failed", target_id=str(job.pk)).exists()


def test_cancelling_a_running_job_stops_it_at_its_next_stage(ready, stub_broker, monkeypatch):
    from apps.core import pipeline_access

    job = start_job(ready)
    pipeline = pipeline_access.get_pipeline()
    original = pipeline.generate

    def cancelled_meanwhile(**kwargs):
        GenerationJob.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED)
        return original(**kwargs)

    monkeypatch.setattr(pipeline, "generate", cancelled_meanwhile)
    generation_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.headshots.count() == 0


@pytest.mark.django_db(transaction=True)  # the renewing thread writes on its own connection
def test_the_lease_is_renewed_while_a_long_stage_runs(ready, stub_broker, settings, monkeypatch):
    """Model loading and native inference report no progress: a side thread keeps the lease."""
    import time

    from apps.core import pipeline_access

    settings.HEADSHOTS = {**settings.HEADSHOTS, "JOB_LEASE_S": 1}
    job = start_job(ready)
    pipeline = pipeline_access.get_pipeline()
    original = pipeline.select
    seen = []

    def slow_select(*args, **kwargs):
        before = GenerationJob.objects.get(pk=job.pk).heartbeat_at
        time.sleep(1.2)  # a stage longer than the whole lease
        seen.append((before, GenerationJob.objects.get(pk=job.pk).heartbeat_at))
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "select", slow_select)
    generation_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    before, after = seen[0]
    assert after > before


def people(company, count: int) -> list[EmployeeProfile]:
    from tests.apps.factories import user

    return [
        EmployeeProfile.objects.create(
            organization=company.org,
            user=user(f"hire{i}@{company.org.email_domains[0]}"),
            full_name=f"Hire {i}",
            email=f"hire{i}@{company.org.email_domains[0]}",
        )
        for i in range(count)
    ]


def queued_job(company, employee) -> GenerationJob:
    from apps.presets.selectors import preset_version_latest

    version = preset_version_latest(organization=company.org, preset=company.preset())
    return GenerationJob.objects.create(
        organization=company.org, employee=employee, preset_version=version, base_seed=1
    )


def test_one_companys_many_new_hires_do_not_starve_another_company(
    acme, globex, stub_broker, settings
):
    settings.HEADSHOTS = {**settings.HEADSHOTS, "GPU_JOBS_PER_COMPANY": 2}
    crowd = [queued_job(acme, person) for person in people(acme, 12)]
    assert generation_jobs_dispatch() == 2
    single = queued_job(globex, globex.employee)
    assert generation_jobs_dispatch() == 1
    # Globex waits behind two jobs, not twelve
    assert sent(stub_broker) == [crowd[0].pk, crowd[1].pk, single.pk]
    # a finished job frees its company's slot for the next of its own jobs
    GenerationJob.objects.filter(pk=crowd[0].pk).update(status=JobStatus.SUCCEEDED)
    assert generation_jobs_dispatch() == 1
    assert sent(stub_broker)[-1] == crowd[2].pk


def test_the_sweep_puts_back_abandoned_runs_and_resends_lost_messages(
    acme, globex, stub_broker, settings
):
    settings.HEADSHOTS = {**settings.HEADSHOTS, "GPU_JOBS_PER_COMPANY": 5}
    dead, lost, hopeless = (queued_job(acme, p) for p in people(acme, 3))
    abandon(dead)
    abandon(hopeless, attempts=MAX_JOB_ATTEMPTS)
    long_ago = timezone.now() - timedelta(hours=2)
    GenerationJob.objects.filter(pk=lost.pk).update(dispatched_at=long_ago, updated_at=long_ago)
    counts = generation_jobs_sweep()
    assert counts == {"abandoned": 1, "redispatched": 1, "failed": 1, "dispatched": 2}
    dead.refresh_from_db(), lost.refresh_from_db(), hopeless.refresh_from_db()
    assert dead.status == JobStatus.QUEUED and dead.dispatched_at is not None
    assert lost.dispatched_at > long_ago and hopeless.status == JobStatus.FAILED
    assert sorted(sent(stub_broker)) == sorted([dead.pk, lost.pk])
    assert generation_jobs_sweep() == {
        "abandoned": 0,
        "redispatched": 0,
        "failed": 0,
        "dispatched": 0,
    }


def test_an_administrator_requeues_a_failed_job(acme, globex, stub_broker):
    job = queued_job(acme, acme.employee)
    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error="model missing", attempts=3
    )
    with pytest.raises(PermissionDenied):
        generation_job_requeue(organization=acme.org, actor=acme.employee_user, job=job)
    with pytest.raises(NotFound):
        generation_job_requeue(organization=globex.org, actor=globex.hr, job=job)
    generation_job_requeue(organization=acme.org, actor=acme.hr, job=job)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.attempts == 0 and job.error == ""
    assert sent(stub_broker) == [job.pk]
    assert AuditEvent.objects.filter(action="job.requeued", target_id=str(job.pk)).exists()
    with pytest.raises(StateConflict, match="only a failed one"):
        generation_job_requeue(organization=acme.org, actor=acme.hr, job=job)
