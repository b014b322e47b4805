from __future__ import annotations

import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import NotFound, PermissionDenied, StateConflict, ValidationFailed
from apps.core.queue import enqueue
from apps.core.storage import private_delete, private_read, private_save
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
from apps.organizations.models import APPROVER_ROLES, MANAGER_ROLES, EmployeeProfile, Organization
from apps.organizations.selectors import membership_get, require_role
from apps.photos.models import Photo, PhotoStatus
from apps.photos.selectors import consent_current, usable_photo_count
from apps.photos.services import embedding_from_bytes, identity_profile_save
from apps.presets.models import BrandPreset
from apps.presets.selectors import preset_version_latest, preset_version_spec
from apps.presets.services import brand_preset_version_lock
from pipeline.attributes import summarise as summarise_attributes
from pipeline.errors import PipelineError

if TYPE_CHECKING:
    from pipeline.orchestrator import GenerationResult
    from pipeline.selection import Scored

logger = logging.getLogger(__name__)


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
    GenerationJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        progress=max(0, min(100, percent)), stage=stage, updated_at=timezone.now()
    )


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
            enqueue(generation_job_run_task, job.pk)
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
    job.refresh_from_db()
    return job


# -- running (worker side) -----------------------------------------------------------------------------
def generation_job_run(*, job_id: int) -> GenerationJob | None:
    """Run a queued job to the end. Safe to call twice: only one call wins the start."""
    from apps.core.pipeline_access import get_pipeline

    job = (
        GenerationJob.objects.select_related("employee", "preset_version", "organization")
        .filter(pk=job_id)
        .first()
    )
    if job is None:
        logger.info("job %s vanished before it ran; skipping", job_id)
        return None
    if not job_transition(
        job_id=job_id,
        source=JobStatus.QUEUED,
        target=JobStatus.RUNNING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
        progress=2,
        stage="identity",
    ):
        logger.info("job %s is %s, not queued; nothing to do", job_id, job.status)
        return job
    started = time.perf_counter()
    try:
        pipeline = get_pipeline()
        # 1. identity
        photos = list(
            Photo.objects.filter(
                organization=job.organization, employee=job.employee, status=PhotoStatus.USABLE
            ).order_by("pk")
        )
        embeddings = {str(p.pk): embedding_from_bytes(p.embedding) for p in photos if p.embedding}
        enrollment = pipeline.build_identity(embeddings)
        attributes = summarise_attributes(
            [
                p.report["attributes"]
                for p in photos
                if str(p.pk) in enrollment.used and p.report.get("attributes")
            ]
        )
        identity_profile_save(
            employee=job.employee,
            embedding=enrollment.embedding,
            face_backend=pipeline.analyzer.name,
            used=[int(k) for k in enrollment.used],
            outliers=[int(k) for k in enrollment.outliers],
            attributes=attributes,
        )
        identity_s = time.perf_counter() - started
        job_progress(job_id=job_id, percent=8, stage="loading selfies")
        # 2. selfies
        selfies = [
            s
            for p in photos
            if str(p.pk) in enrollment.used
            if (s := pipeline.load_selfie(str(p.pk), private_read(p.normalised.name))) is not None
        ]
        # 3. generate
        spec = preset_version_spec(job.preset_version)
        result = pipeline.generate(
            preset=spec,
            preset_version=job.preset_version.number,
            selfies=selfies,
            enrollment=enrollment,
            base_seed=job.base_seed,
            attributes=attributes,
            progress=lambda percent, stage: job_progress(
                job_id=job_id, percent=percent, stage=stage
            ),
        )
        # 4. select
        job_progress(job_id=job_id, percent=75, stage="ranking")
        ranking = pipeline.select(result, preset=spec, enrollment=enrollment, attributes=attributes)
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
    # 4. store the candidates, exactly once
    timings = {"identity_s": round(identity_s, 3), **result.timings}
    return _store_results(job=job, result=result, ranking=ranking, timings=timings, started=started)


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
            if locked.status != JobStatus.RUNNING:
                logger.info(
                    "job %s became %s while running; results discarded", job.pk, locked.status
                )
                raise _Discard
            stale = list(Headshot.objects.filter(job=job).values_list("image", flat=True))
            Headshot.objects.filter(job=job).delete()  # partial outputs of an earlier, dead attempt
            transaction.on_commit(lambda: [private_delete(n) for n in stale])
            by_key = {c.key: c for c in result.candidates}
            for scored in ranking:
                candidate = by_key[scored.key]
                name = private_save(folder, candidate.encoded, suffix=".jpg")
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
    headshot = Headshot.objects.select_for_update().get(pk=headshot.pk)
    if headshot.organization_id != organization.pk:
        raise NotFound("Not found.")
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
    return headshot


@transaction.atomic
def headshot_reject(
    *, organization: Organization, actor: AbstractBaseUser, headshot: Headshot, reason: str
) -> Headshot:
    require_role(organization=organization, user=actor, roles=APPROVER_ROLES)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Say why the headshot is rejected; the person sees the reason.")
    headshot = Headshot.objects.select_for_update().get(pk=headshot.pk)
    if headshot.organization_id != organization.pk:
        raise NotFound("Not found.")
    if headshot.status not in (HeadshotStatus.CANDIDATE, HeadshotStatus.PICKED):
        raise StateConflict(f"This headshot is {headshot.status}; it can no longer be rejected.")
    headshot.status = HeadshotStatus.REJECTED
    headshot.rejection_reason = reason[:500]
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
