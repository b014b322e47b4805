"""Generation jobs: their state machine (compare-and-set moves), what a person or HR asks
for (create, cancel, requeue), fair dispatch to the GPU queue, and the sweep that puts
back what died."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import (
    NotFound,
    PermissionDenied,
    StateConflict,
    ValidationFailed,
    found,
)
from apps.core.queue import enqueue
from apps.core.text import counted
from apps.generation.models import (
    ACTIVE_JOB_STATES,
    JOB_TRANSITIONS,
    MAX_JOB_ATTEMPTS,
    GenerationJob,
    JobStatus,
)
from apps.organizations.models import (
    MANAGER_ROLES,
    EmployeeProfile,
    Organization,
)
from apps.organizations.selectors import membership_get, require_role
from apps.photos.selectors import consent_current, usable_photo_count
from apps.presets.models import BrandPreset
from apps.presets.selectors import preset_version_latest
from apps.presets.services import brand_preset_version_lock
from pipeline.presets import ROUND_CHANGES

logger = logging.getLogger(__name__)


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


def worker_name() -> str:
    """This process, as job leases name it (the pid changes after a fork, so it is read each time)."""
    return f"{socket.gethostname()}:{os.getpid()}"


# -- requesting and cancelling --------------------------------------------------------------------------
def generation_job_create(
    *,
    organization: Organization,
    actor: User,
    employee: EmployeeProfile,
    preset: BrandPreset,
    changes: list[str] | None = None,
) -> GenerationJob:
    """A round of headshots. ``changes``: what the person asked to be different from
    their last round (pipeline.presets.ROUND_CHANGES)."""
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
            f"{counted(usable, 'usable photo')} so far; at least {needed} are needed. Upload more selfies "
            "and fix the ones marked as unusable.",
            extra={"usable": usable, "needed": needed},
        )
    version = preset_version_latest(organization=organization, preset=preset)
    adjustments = _round_adjustments(employee, changes or [])
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
                adjustments=adjustments,
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


def _round_adjustments(employee: EmployeeProfile, changes: list[str]) -> dict[str, object]:
    """The changes asked for, checked; for another selfie, the ones the last round's
    offered headshots were made from."""
    unknown = sorted(set(changes) - set(ROUND_CHANGES))
    if unknown:
        raise ValidationFailed("Choose what should be different from the options shown.")
    if not changes:
        return {}
    adjustments: dict[str, object] = {"changes": sorted(set(changes))}
    if "other_selfie" in changes:
        last = (
            GenerationJob.objects.filter(employee=employee, status=JobStatus.SUCCEEDED)
            .order_by("-finished_at", "-pk")
            .first()
        )
        if last is not None:
            adjustments["avoid_photos"] = sorted(
                {
                    pk
                    for pk in last.headshots.filter(accepted=True).values_list(
                        "source_photo_id", flat=True
                    )
                    if pk is not None
                }
            )
    return adjustments


@transaction.atomic
def generation_job_cancel(
    *, organization: Organization, actor: User, job: GenerationJob
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
    *, organization: Organization, actor: User, job: GenerationJob
) -> GenerationJob:
    """HR sends a failed job round again (after the operators fixed a missing model, say)."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if job.organization_id != organization.pk:
        raise NotFound("Not found.")
    return _job_requeue(job=job, actor=actor)


def generation_job_requeue_dead_letter(job_id: int) -> None:
    """The operators' dead-letter requeue of a generation message (no company actor)."""
    job = found(
        GenerationJob.objects.select_related("organization").filter(pk=job_id),
        "This generation job no longer exists.",
    )
    if job.status == JobStatus.FAILED:
        _job_requeue(job=job, actor=None)
    elif job.status == JobStatus.QUEUED:
        GenerationJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(dispatched_at=None)
        generation_jobs_dispatch(organization_id=job.organization_id)
    else:
        raise StateConflict(f"This generation is {job.status}; there is nothing to requeue.")


def _job_requeue(*, job: GenerationJob, actor: User | None) -> GenerationJob:
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
                    enqueue("generation_job_run", job_id)
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
            job_fail(
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


def job_fail(*, job: GenerationJob, reason: str) -> None:
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
        job_finished_notify(job, status=JobStatus.FAILED, accepted=0, error=reason)


def job_finished_notify(job: GenerationJob, *, status: str, accepted: int, error: str = "") -> None:
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
