from __future__ import annotations

import contextlib
import functools
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Min
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import NotFound, PermissionDenied, StateConflict, ValidationFailed
from apps.core.queue import enqueue
from apps.core.storage import private_delete, private_read, private_save
from apps.core.text import text_problem
from apps.generation.models import (
    ACTIVE_JOB_STATES,
    JOB_TRANSITIONS,
    MAX_JOB_ATTEMPTS,
    GenerationJob,
    Headshot,
    HeadshotStatus,
    JobStatus,
)
from apps.generation.tasks import generation_job_run_task
from apps.organizations.models import (
    APPROVER_ROLES,
    MANAGER_ROLES,
    EmployeeProfile,
    EmployeeStatus,
    Organization,
)
from apps.organizations.selectors import membership_get, require_role
from apps.photos.models import Photo, PhotoStatus
from apps.photos.selectors import consent_current, consent_standing, usable_photo_count
from apps.photos.services import embedding_from_bytes, identity_profile_save
from apps.presets.models import BrandPreset
from apps.presets.selectors import preset_version_latest, preset_version_spec
from apps.presets.services import brand_preset_version_lock
from pipeline.errors import PipelineError

if TYPE_CHECKING:
    from pipeline.identity import Enrollment
    from pipeline.orchestrator import GenerationResult, Scored

logger = logging.getLogger(__name__)
REASON_MAX = 500  # Headshot.rejection_reason

# What the person reads when a job's workers kept dying (killed, out of memory, hung).
GAVE_UP_REASON = (
    f"This generation stopped {MAX_JOB_ATTEMPTS} times before it could finish. "
    "Try again later; the administrators have been told."
)


# -- the state machine -------------------------------------------------------------------------------
def job_transition(*, job_id: int, source: str, target: str, **fields: Any) -> bool:
    """Compare-and-set: move a job from ``source`` to ``target`` only if it is still in ``source``."""
    if target not in JOB_TRANSITIONS[source]:
        raise StateConflict(f"A job cannot go from {source} to {target}.")
    return (
        GenerationJob.objects.filter(pk=job_id, status=source).update(
            status=target, updated_at=timezone.now(), **fields
        )
        == 1
    )


def job_progress(*, job_id: int, percent: int, stage: str) -> None:
    """Record the stage; a job cancelled (or taken over) meanwhile stops here."""
    now = timezone.now()
    if not GenerationJob.objects.filter(
        pk=job_id, status=JobStatus.RUNNING, worker=worker_name()
    ).update(progress=max(0, min(100, percent)), stage=stage, updated_at=now, heartbeat_at=now):
        raise JobStopped(job_id)


class JobStopped(Exception):
    """The job is no longer this worker's to run (cancelled, or taken over)."""


# -- requesting and cancelling --------------------------------------------------------------------------
def generation_job_create(
    *,
    organization: Organization,
    actor: AbstractBaseUser,
    employee: EmployeeProfile,
    preset: BrandPreset,
) -> GenerationJob:
    membership = membership_get(organization=organization, user=actor)
    if employee.organization_id != organization.pk or preset.organization_id != organization.pk:
        raise NotFound("Not found.")
    if employee.user_id != actor.pk and membership.role not in MANAGER_ROLES:
        raise PermissionDenied("Only the person themselves or HR can start a generation.")
    if consent_current(organization=organization, employee=employee) is None:
        raise StateConflict(
            "No current consent: the person must consent before any headshot is generated."
        )
    needed = settings.HEADSHOTS["MIN_USABLE_PHOTOS"]
    usable = usable_photo_count(organization=organization, employee=employee)
    if usable < needed:
        raise StateConflict(
            f"{usable} usable photo(s) so far; at least {needed} are needed. Upload more selfies "
            "and fix the ones marked as unusable.",
            extra={"usable": usable, "needed": needed},
        )
    version = preset_version_latest(organization=organization, preset=preset)
    try:
        with transaction.atomic():
            if GenerationJob.objects.filter(
                employee=employee, status__in=ACTIVE_JOB_STATES
            ).exists():
                raise StateConflict("A generation is already queued or running for this person.")
            brand_preset_version_lock(version=version)
            job = GenerationJob.objects.create(
                organization=organization,
                employee=employee,
                preset_version=version,
                requested_by=actor,
                base_seed=secrets.randbelow(2**31),
            )
            audit_record(
                organization=organization,
                actor=actor,
                action="job.requested",
                target=job,
                data={"preset": preset.slug, "version": version.number},
            )
            generation_jobs_dispatch(organization_id=organization.pk)
    except IntegrityError as exc:  # the one-active-job constraint, under a race
        raise StateConflict("A generation is already queued or running for this person.") from exc
    return job


@transaction.atomic
def generation_job_cancel(
    *, organization: Organization, actor: AbstractBaseUser, job: GenerationJob
) -> GenerationJob:
    membership = membership_get(organization=organization, user=actor)
    if job.organization_id != organization.pk:
        raise NotFound("Not found.")
    if job.employee.user_id != actor.pk and membership.role not in MANAGER_ROLES:
        raise PermissionDenied("Only the person themselves or HR can cancel this generation.")
    for source in ACTIVE_JOB_STATES:
        if job_transition(
            job_id=job.pk,
            source=source,
            target=JobStatus.CANCELLED,
            stage="cancelled",
            finished_at=timezone.now(),
        ):
            audit_record(organization=organization, actor=actor, action="job.cancelled", target=job)
            break
    else:
        job.refresh_from_db()
        raise StateConflict(f"This generation has already {job.status}; it cannot be cancelled.")
    generation_jobs_dispatch(organization_id=organization.pk)
    job.refresh_from_db()
    return job


def employee_jobs_stop(*, organization: Organization, employee: EmployeeProfile) -> int:
    """Cancel a person's queued or running generation (they left, or withdrew consent); a
    running one stops at its next stage. Frees the company's dispatch slots."""
    stopped = GenerationJob.objects.filter(
        organization=organization, employee=employee, status__in=ACTIVE_JOB_STATES
    ).update(status=JobStatus.CANCELLED, stage="cancelled", finished_at=timezone.now())
    if stopped:
        generation_jobs_dispatch(organization_id=organization.pk)
    return stopped


def generation_job_requeue(
    *, organization: Organization, actor: AbstractBaseUser, job: GenerationJob
) -> GenerationJob:
    """HR sends a failed job round again (after the operators fixed a missing model, say)."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if job.organization_id != organization.pk:
        raise NotFound("Not found.")
    return _job_requeue(job=job, actor=actor)


def generation_job_requeue_dead_letter(job_id: int) -> None:
    """The operators' dead-letter requeue of a generation message (no company actor)."""
    job = GenerationJob.objects.select_related("organization").filter(pk=job_id).first()
    if job is None:
        raise NotFound("This generation job no longer exists.")
    if job.status == JobStatus.FAILED:
        _job_requeue(job=job, actor=None)
    elif job.status == JobStatus.QUEUED:
        GenerationJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(dispatched_at=None)
        generation_jobs_dispatch(organization_id=job.organization_id)
    else:
        raise StateConflict(f"This generation is {job.status}; there is nothing to requeue.")


def _job_requeue(*, job: GenerationJob, actor: AbstractBaseUser | None) -> GenerationJob:
    organization = job.organization
    try:
        with transaction.atomic():
            if not job_transition(
                job_id=job.pk,
                source=JobStatus.FAILED,
                target=JobStatus.QUEUED,
                attempts=0,
                progress=0,
                stage="queued",
                error="",
                dispatched_at=None,
                worker="",
                heartbeat_at=None,
                finished_at=None,
            ):
                job.refresh_from_db()
                raise StateConflict(
                    f"This generation is {job.status}; only a failed one can be requeued."
                )
            audit_record(organization=organization, actor=actor, action="job.requeued", target=job)
            generation_jobs_dispatch(organization_id=organization.pk)
    except IntegrityError as exc:
        raise StateConflict(
            "Another generation is already queued or running for this person."
        ) from exc
    job.refresh_from_db()
    return job


# -- dispatching: fair shares of the GPU queue ----------------------------------------------------------
def generation_jobs_dispatch(*, organization_id: int | None = None) -> int:
    """Send queued jobs to the GPU queue, at most HEADSHOTS_GPU_JOBS_PER_COMPANY in flight per
    company, companies served oldest waiting first: one company's 500 new hires wait behind
    their own jobs, not in front of another company's one. Returns how many were sent."""
    limit = settings.HEADSHOTS["GPU_JOBS_PER_COMPANY"]
    waiting = GenerationJob.objects.filter(status=JobStatus.QUEUED, dispatched_at__isnull=True)
    if organization_id is not None:
        waiting = waiting.filter(organization_id=organization_id)
    companies = (
        waiting.values("organization_id").annotate(oldest=Min("created_at")).order_by("oldest")
    )
    sent = 0
    for row in list(companies):
        with transaction.atomic():
            # One dispatcher per company at a time, so two cannot both fill the last slot.
            Organization.objects.select_for_update().filter(pk=row["organization_id"]).first()
            in_flight = GenerationJob.objects.filter(
                organization_id=row["organization_id"],
                status__in=ACTIVE_JOB_STATES,
                dispatched_at__isnull=False,
            ).count()
            free = limit - in_flight
            if free <= 0:
                continue
            ids = list(
                GenerationJob.objects.filter(
                    organization_id=row["organization_id"],
                    status=JobStatus.QUEUED,
                    dispatched_at__isnull=True,
                )
                .order_by("created_at", "pk")
                .values_list("pk", flat=True)[:free]
            )
            now = timezone.now()
            for job_id in ids:
                if GenerationJob.objects.filter(pk=job_id, dispatched_at__isnull=True).update(
                    dispatched_at=now, updated_at=now
                ):
                    enqueue(generation_job_run_task, job_id)
                    sent += 1
    return sent


def generation_jobs_sweep() -> dict[str, int]:
    """The scheduler's safety net: runs whose worker died are put back in the queue (or
    failed after the last attempt), dispatched jobs whose message was lost are sent again,
    and free slots are filled."""
    now = timezone.now()
    lease = timedelta(seconds=settings.HEADSHOTS["JOB_LEASE_S"])
    stuck_after = timedelta(seconds=settings.HEADSHOTS["JOB_STUCK_AFTER_S"])
    counts = {"abandoned": 0, "redispatched": 0, "failed": 0, "dispatched": 0}
    for job in GenerationJob.objects.filter(
        status=JobStatus.RUNNING, heartbeat_at__lt=now - lease
    ).select_related("organization"):
        if job.attempts >= MAX_JOB_ATTEMPTS:
            _job_fail(
                job=job,
                reason=GAVE_UP_REASON,
            )
            counts["failed"] += 1
        elif GenerationJob.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, heartbeat_at__lt=now - lease
        ).update(
            status=JobStatus.QUEUED, stage="waiting to resume", dispatched_at=None, updated_at=now
        ):
            logger.warning("job %s: worker %s stopped answering; job put back", job.pk, job.worker)
            counts["abandoned"] += 1
    counts["redispatched"] = GenerationJob.objects.filter(
        status=JobStatus.QUEUED,
        dispatched_at__lt=now - stuck_after,
        updated_at__lt=now - stuck_after,
    ).update(dispatched_at=None, updated_at=now)
    counts["dispatched"] = generation_jobs_dispatch()
    return counts


# -- running (worker side) -----------------------------------------------------------------------------
def generation_job_run(*, job_id: int) -> GenerationJob | None:
    """Run a queued job to the end. Safe to call twice: only one call wins the start."""
    job = (
        GenerationJob.objects.select_related("employee", "preset_version", "organization")
        .filter(pk=job_id)
        .first()
    )
    if job is None:
        logger.info("job %s vanished before it ran; skipping", job_id)
        return None
    if not _job_claim(job):
        return job
    job.refresh_from_db()
    if job.attempts > MAX_JOB_ATTEMPTS:
        _job_fail(
            job=job,
            reason=GAVE_UP_REASON,
        )
        return job
    try:
        with _lease_kept(job_id):
            return _job_run_claimed(job)
    finally:
        generation_jobs_dispatch(organization_id=job.organization_id)


def worker_name() -> str:
    """This process, as job leases name it (the pid changes after a fork, so it is read each time)."""
    return f"{socket.gethostname()}:{os.getpid()}"


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

    try:
        pipeline = get_pipeline()
        photos = Photo.objects.filter(
            organization=job.organization, employee=job.employee, status=PhotoStatus.USABLE
        ).order_by("pk")
        outcome = pipeline.run(
            photos=[
                PhotoRecord(
                    key=str(p.pk),
                    embedding=embedding_from_bytes(p.embedding),
                    attributes=p.report.get("attributes"),
                    load=functools.partial(private_read, p.normalised.name),
                )
                for p in photos
                if p.embedding
            ],
            preset=preset_version_spec(job.preset_version),
            preset_version=job.preset_version.number,
            base_seed=job.base_seed,
            progress=lambda percent, stage: job_progress(
                job_id=job_id, percent=percent, stage=stage
            ),
            enrolled=enrolled,
        )
    except JobStopped:
        logger.info("job %s stopped: no longer this worker's to run", job_id)
        job.refresh_from_db()
        return job
    except PipelineError as exc:
        _job_fail(job=job, reason=exc.message)
        raise
    except Exception:
        job.refresh_from_db()
        if job.attempts >= MAX_JOB_ATTEMPTS:
            _job_fail(job=job, reason="An internal error stopped this generation. Try again later.")
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


def _job_fail(*, job: GenerationJob, reason: str) -> None:
    """Running -> failed, with the reason the person sees, audited."""
    if job_transition(
        job_id=job.pk,
        source=JobStatus.RUNNING,
        target=JobStatus.FAILED,
        error=reason,
        stage="failed",
        finished_at=timezone.now(),
    ):
        audit_record(
            organization=job.organization,
            actor=None,
            action="job.failed",
            target=job,
            data={"reason": reason},
        )
        _job_finished_notify(job, status=JobStatus.FAILED, accepted=0, error=reason)


def _job_finished_notify(
    job: GenerationJob, *, status: str, accepted: int, error: str = ""
) -> None:
    from apps.webhooks.services import webhook_emit

    webhook_emit(
        organization=job.organization,
        event="job.finished",
        data={
            "job": job.pk,
            "employee": {"id": job.employee_id, "email": job.employee.email},
            "status": status,
            "accepted_candidates": accepted,
            "error": error,
        },
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
            stale = list(Headshot.objects.filter(job=job).values_list("image", flat=True))
            Headshot.objects.filter(job=job).delete()  # partial outputs of an earlier, dead attempt
            transaction.on_commit(lambda: [private_delete(n) for n in stale])
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
            _job_finished_notify(
                job, status=JobStatus.SUCCEEDED, accepted=sum(1 for s in ranking if s.accepted)
            )
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


# -- pick, approve, reject -----------------------------------------------------------------------------
@transaction.atomic
def headshot_pick(
    *, organization: Organization, actor: AbstractBaseUser, headshot: Headshot
) -> Headshot:
    membership_get(organization=organization, user=actor)
    headshot = (
        Headshot.objects.select_for_update().select_related("employee", "job").get(pk=headshot.pk)
    )
    if headshot.organization_id != organization.pk:
        raise NotFound("Not found.")
    if headshot.employee.user_id != actor.pk:
        raise PermissionDenied("Only the person in the headshot can pick it.")
    _require_consent(organization, headshot)
    if headshot.status == HeadshotStatus.PICKED:
        return headshot
    if headshot.status != HeadshotStatus.CANDIDATE or headshot.job.status != JobStatus.SUCCEEDED:
        raise StateConflict(
            f"This headshot is {headshot.status}; only a new candidate can be picked."
        )
    if not headshot.accepted:
        raise StateConflict(
            f"This candidate did not pass our checks ({headshot.reason}); pick another one."
        )
    headshot.status = HeadshotStatus.PICKED
    headshot.picked_at = timezone.now()
    headshot.save(update_fields=["status", "picked_at", "updated_at"])
    audit_record(organization=organization, actor=actor, action="headshot.picked", target=headshot)
    return headshot


@transaction.atomic
def headshot_approve(
    *, organization: Organization, actor: AbstractBaseUser, headshot: Headshot
) -> Headshot:
    require_role(organization=organization, user=actor, roles=APPROVER_ROLES)
    headshot = Headshot.objects.select_for_update().select_related("employee").get(pk=headshot.pk)
    if headshot.organization_id != organization.pk:
        raise NotFound("Not found.")
    _require_other_decider(headshot, actor)
    _require_consent(organization, headshot)
    if headshot.status == HeadshotStatus.APPROVED:
        return headshot
    if headshot.status != HeadshotStatus.PICKED:
        raise StateConflict(
            f"This headshot is {headshot.status}; only a headshot the person picked can be approved."
        )
    headshot.status = HeadshotStatus.APPROVED
    headshot.decided_by = actor
    headshot.decided_at = timezone.now()
    headshot.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_record(
        organization=organization,
        actor=actor,
        action="headshot.approved",
        target=headshot,
        data={"employee": headshot.employee_id},
    )
    from apps.webhooks.services import webhook_emit

    webhook_emit(
        organization=organization,
        event="headshot.approved",
        data={
            "headshot": headshot.pk,
            "employee": {"id": headshot.employee_id, "email": headshot.employee.email},
            "approved_by": getattr(actor, "email", ""),
        },
    )
    return headshot


@transaction.atomic
def headshot_reject(
    *, organization: Organization, actor: AbstractBaseUser, headshot: Headshot, reason: str
) -> Headshot:
    require_role(organization=organization, user=actor, roles=APPROVER_ROLES)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Say why the headshot is rejected; the person sees the reason.")
    problem = text_problem(reason, limit=REASON_MAX, what="The reason", multiline=True)
    if problem:
        raise ValidationFailed(problem + ".")
    headshot = Headshot.objects.select_for_update().select_related("employee").get(pk=headshot.pk)
    if headshot.organization_id != organization.pk:
        raise NotFound("Not found.")
    _require_other_decider(headshot, actor)
    if headshot.status not in (HeadshotStatus.CANDIDATE, HeadshotStatus.PICKED):
        raise StateConflict(f"This headshot is {headshot.status}; it can no longer be rejected.")
    headshot.status = HeadshotStatus.REJECTED
    headshot.rejection_reason = reason
    headshot.decided_by = actor
    headshot.decided_at = timezone.now()
    headshot.save(
        update_fields=["status", "rejection_reason", "decided_by", "decided_at", "updated_at"]
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="headshot.rejected",
        target=headshot,
        data={"reason": headshot.rejection_reason},
    )
    return headshot


def _require_other_decider(headshot: Headshot, actor: AbstractBaseUser) -> None:
    """Nobody decides on their own picture: another approver of the company does."""
    if headshot.employee.user_id is not None and headshot.employee.user_id == actor.pk:
        raise PermissionDenied(
            "You cannot approve or reject your own headshot; another approver decides on it."
        )


def _require_consent(organization: Organization, headshot: Headshot) -> None:
    if headshot.employee.status == EmployeeStatus.LEFT:
        raise StateConflict("This person has left the company: their headshots are not used.")
    if not consent_standing(organization=organization, employee=headshot.employee):
        raise StateConflict(
            "This person has withdrawn their consent: their headshots can no longer be used."
        )


def employee_headshots_delete(*, organization: Organization, employee: EmployeeProfile) -> int:
    """Stop every use of a person's generated headshots (consent withdrawn, their data
    deleted, a leaver purged). Headshots and jobs are deleted with their files, except a
    headshot still in the company's directory: its image and the cards and exports made
    from it are deleted now, it is marked withdrawn (nobody can pick, approve or publish
    it), and the directory sync, sent now, removes the photo from the directory. Returns
    how many headshots were deleted or withdrawn."""
    from apps.publishing.models import Publication, PublicationStatus, PublicationTarget
    from apps.publishing.tasks import directory_sync_task

    publications = Publication.objects.select_for_update().filter(
        organization=organization, employee=employee
    )
    names = [p.artifact.name for p in publications if p.artifact]
    in_directory = set(
        publications.filter(
            target=PublicationTarget.DIRECTORY_LDAP, status=PublicationStatus.SUCCEEDED
        ).values_list("headshot_id", flat=True)
    )
    # Cards and exports are files we hold: they go now. A directory photo stays recorded
    # until the sync has removed it.
    publications.exclude(headshot_id__in=in_directory).delete()
    publications.filter(headshot_id__in=in_directory).exclude(
        target=PublicationTarget.DIRECTORY_LDAP
    ).delete()
    headshots = Headshot.objects.filter(organization=organization, employee=employee)
    names += [h.image.name for h in headshots if h.image]
    count = headshots.count()
    headshots.exclude(pk__in=in_directory).delete()
    headshots.filter(pk__in=in_directory).update(
        status=HeadshotStatus.WITHDRAWN, image="", updated_at=timezone.now()
    )
    GenerationJob.objects.filter(organization=organization, employee=employee).exclude(
        headshots__pk__in=in_directory
    ).delete()
    transaction.on_commit(lambda: [private_delete(n) for n in names])
    if in_directory:
        enqueue(directory_sync_task, organization.pk)
    return count
