"""Running a job on a worker: claim it (or take over an abandoned one), keep its lease
while the pipeline runs, and store the candidates exactly once."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.health import metric_observe
from apps.core.storage import private_delete, private_delete_all, private_read, private_save
from apps.generation.metrics import JOB_DURATION
from apps.generation.models import (
    MAX_JOB_ATTEMPTS,
    GenerationJob,
    Headshot,
    JobStatus,
)
from apps.generation.notifications import ready_mail_later
from apps.generation.services.jobs import (
    GAVE_UP_REASON,
    JobStopped,
    generation_jobs_dispatch,
    job_fail,
    job_finished_notify,
    job_progress,
    job_transition,
    worker_name,
)
from apps.photos.models import Photo, PhotoStatus
from apps.photos.services import (
    embedding_from_bytes,
    identity_profile_save,
    person_model_load,
    person_model_save,
)
from apps.presets.selectors import preset_version_spec
from pipeline.errors import PipelineError
from pipeline.presets import preset_for_round

if TYPE_CHECKING:
    from pipeline.orchestrator import Enrollment, GenerationResult, Scored

logger = logging.getLogger(__name__)


# What claiming a job writes (read back after the claim).
CLAIMED_FIELDS = [
    "status",
    "attempts",
    "progress",
    "stage",
    "worker",
    "heartbeat_at",
    "started_at",
    "updated_at",
]


def generation_job_run(*, job_id: int) -> GenerationJob | None:
    """Run a queued job to the end. Safe to call twice: only one call wins the start."""
    try:
        job = GenerationJob.objects.select_related(
            "employee", "preset_version", "organization"
        ).get(pk=job_id)
    except GenerationJob.DoesNotExist:
        logger.info("job %s vanished before it ran; skipping", job_id)
        return None
    if not _job_claim(job):
        return job
    # what the claim wrote, keeping the person, preset and company already loaded
    job.refresh_from_db(fields=CLAIMED_FIELDS)
    if job.attempts > MAX_JOB_ATTEMPTS:
        job_fail(
            job=job,
            reason=GAVE_UP_REASON,
        )
        return job
    try:
        with _lease_kept(job_id):
            return _job_run_claimed(job)
    finally:
        generation_jobs_dispatch(organization_id=job.organization_id)


def _job_claim(job: GenerationJob) -> bool:
    """Take the job: queued -> running, or a running job whose lease ran out (its worker was
    killed) taken over. Exactly one caller wins; a redelivered message finds nothing to do."""
    now = timezone.now()
    lease = _job_lease_fields(now)
    if job_transition(
        job_id=job.pk,
        source=JobStatus.QUEUED,
        target=JobStatus.RUNNING,
        started_at=now,
        attempts=F("attempts") + 1,
        progress=2,
        stage="identity",
        **lease,
    ):
        return True
    abandoned_before = now - timedelta(seconds=settings.HEADSHOTS["JOB_LEASE_S"])
    if GenerationJob.objects.filter(
        pk=job.pk, status=JobStatus.RUNNING, heartbeat_at__lt=abandoned_before
    ).update(attempts=F("attempts") + 1, progress=2, stage="resuming", updated_at=now, **lease):
        logger.warning("job %s: its worker stopped answering; this worker takes it over", job.pk)
        return True
    held = GenerationJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).first()
    if held is not None and held.heartbeat_at is not None:
        # Its worker renewed the lease lately: alive and working, or killed a moment ago.
        # Look again when the lease would have run out.
        remaining = (held.heartbeat_at - abandoned_before).total_seconds()
        raise JobBusy(job.pk, retry_in_s=max(1.0, remaining + 1.0))
    logger.info("job %s is %s; nothing to do", job.pk, job.status)
    return False


class JobBusy(Exception):
    """A running job's lease is still fresh: the message must come back after it runs out,
    for the case where its worker was killed a moment ago."""

    def __init__(self, job_id: int, *, retry_in_s: float) -> None:
        super().__init__(f"job {job_id} is held by a live lease; look again in {retry_in_s:.0f} s")
        self.retry_in_s = retry_in_s


def _job_lease_fields(now: Any) -> dict[str, Any]:
    return {"worker": worker_name(), "heartbeat_at": now}


@contextlib.contextmanager
def _lease_kept(job_id: int) -> Iterator[None]:
    """Renew the job's lease from a side thread while the run works (model loading and
    native inference do not report progress often enough to do it themselves)."""
    from django.db import connection

    stop = threading.Event()
    me = worker_name()
    interval = max(0.2, settings.HEADSHOTS["JOB_LEASE_S"] / 3)

    def renew() -> None:
        try:
            while not stop.wait(interval):
                try:
                    GenerationJob.objects.filter(
                        pk=job_id, status=JobStatus.RUNNING, worker=me
                    ).update(heartbeat_at=timezone.now())
                except DatabaseError as exc:  # busy or briefly unreachable: try again next time
                    logger.warning("job %s: lease not renewed this time: %s", job_id, exc)
        finally:
            connection.close()

    thread = threading.Thread(target=renew, name=f"lease-job-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _job_run_claimed(job: GenerationJob) -> GenerationJob:
    from apps.core.pipeline_access import get_pipeline
    from pipeline.orchestrator import PhotoRecord

    job_id = job.pk
    started = time.perf_counter()

    def enrolled(enrollment: Enrollment, attributes: dict[str, object]) -> None:
        identity_profile_save(
            employee=job.employee,
            embedding=enrollment.embedding,
            face_backend=pipeline.analyzer.name,
            used=[int(k) for k in enrollment.used],
            outliers=[int(k) for k in enrollment.outliers],
            attributes=attributes,
        )

    def person_model(enrollment: Enrollment) -> bytes | None:
        key = pipeline.person_model_key(enrollment)
        return None if key is None else person_model_load(employee=job.employee, key=key)

    try:
        pipeline = get_pipeline()
        photos = Photo.objects.filter(
            organization=job.organization, employee=job.employee, status=PhotoStatus.USABLE
        ).order_by("pk")
        avoid = set(job.adjustments.get("avoid_photos", []))  # the person asked for others
        outcome = pipeline.run(
            photos=[
                PhotoRecord(
                    key=str(p.pk),
                    embedding=embedding_from_bytes(bytes(p.embedding)),
                    attributes=p.report.get("attributes"),
                    load=functools.partial(private_read, p.normalised.name),
                    demoted=p.pk in avoid,
                )
                for p in photos
                if p.embedding
            ],
            preset=preset_for_round(
                preset_version_spec(job.preset_version), job.adjustments.get("changes", [])
            ),
            preset_version=job.preset_version.number,
            base_seed=job.base_seed,
            progress=lambda percent, stage: job_progress(
                job_id=job_id, percent=percent, stage=stage
            ),
            enrolled=enrolled,
            person_model=person_model,
        )
        trained = outcome.result.person_model
        key = pipeline.person_model_key(outcome.enrollment)
        if trained is not None and key is not None:
            person_model_save(
                employee=job.employee, key=key, weights=trained.weights, info=trained.describe()
            )
    except JobStopped:
        logger.info("job %s stopped: no longer this worker's to run", job_id)
        job.refresh_from_db()
        return job
    except PipelineError as exc:
        job_fail(job=job, reason=exc.message)
        raise
    except Exception:
        job.refresh_from_db()
        if job.attempts >= MAX_JOB_ATTEMPTS:
            job_fail(job=job, reason="An internal error stopped this generation. Try again later.")
        else:
            job_transition(
                job_id=job_id, source=JobStatus.RUNNING, target=JobStatus.QUEUED, stage="retrying"
            )
        raise
    # 5. store the candidates, exactly once
    return _store_results(
        job=job,
        result=outcome.result,
        ranking=outcome.ranking,
        timings=dict(outcome.timings),
        started=started,
    )


def _store_results(
    *,
    job: GenerationJob,
    result: GenerationResult,
    ranking: list[Scored],
    timings: dict[str, float],
    started: float,
) -> GenerationJob:
    folder = f"org-{job.organization_id}/employee-{job.employee_id}/jobs/{job.pk}"
    saved: list[str] = []
    try:
        with transaction.atomic():
            locked = GenerationJob.objects.select_for_update().get(pk=job.pk)
            if locked.status != JobStatus.RUNNING or locked.worker != worker_name():
                logger.info(
                    "job %s became %s (held by %s) while running; results discarded",
                    job.pk,
                    locked.status,
                    locked.worker,
                )
                raise _Discard
            earlier = list(Headshot.objects.filter(job=job))
            if earlier:  # partial outputs of an earlier, dead attempt
                stale = [n for h in earlier for n in h.stored_files()]
                Headshot.objects.filter(pk__in=[h.pk for h in earlier]).delete()
                transaction.on_commit(lambda: private_delete_all(stale))
            by_key = {c.key: c for c in result.candidates}
            for scored in ranking:
                candidate = by_key[scored.key]
                # A generated headshot is personal data made from a face: encrypted at rest.
                name = private_save(folder, candidate.encoded, suffix=".jpg", encrypted=True)
                saved.append(name)
                Headshot.objects.create(
                    organization_id=job.organization_id,
                    job=job,
                    employee_id=job.employee_id,
                    key=scored.key,
                    image=name,
                    seed=candidate.seed,
                    source_photo_id=int(candidate.source_key),
                    backend=result.backend,
                    scores=scored.scores,
                    total_score=scored.total,
                    accepted=scored.accepted,
                    reason=scored.reason,
                    rank=scored.rank,
                    info=candidate.info,
                    prompt=candidate.prompt,
                    negative_prompt=candidate.negative_prompt,
                )
            timings["total_s"] = round(time.perf_counter() - started, 3)
            # after the commit: the total's row lock would hold every other worker's
            # results back until this transaction ends
            total_s = timings["total_s"]
            transaction.on_commit(lambda: metric_observe(JOB_DURATION, total_s))
            job_transition(
                job_id=job.pk,
                source=JobStatus.RUNNING,
                target=JobStatus.SUCCEEDED,
                progress=100,
                stage="done",
                backend=result.backend,
                seeds=[c.seed for c in result.candidates],
                timings=timings,
                finished_at=timezone.now(),
            )
            audit_record(
                organization=job.organization,
                actor=None,
                action="job.succeeded",
                target=job,
                data={
                    "candidates": len(result.candidates),
                    "accepted": sum(1 for s in ranking if s.accepted),
                },
            )
            job_finished_notify(
                job, status=JobStatus.SUCCEEDED, accepted=sum(1 for s in ranking if s.accepted)
            )
            ready_mail_later(job, accepted=sum(1 for s in ranking if s.accepted))
    except _Discard:
        for name in saved:
            private_delete(name)
    except Exception:
        for name in saved:
            private_delete(name)
        raise
    job.refresh_from_db()
    return job


class _Discard(Exception):
    pass
