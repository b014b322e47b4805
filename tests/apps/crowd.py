"""A company's crowd, written in bulk: people spread over every state of the journey
(invited, consented, uploading, generating, awaiting pick, awaiting approval, approved,
published, failed), each with the rows that state has (consent, photos, a job, candidates,
a pick or an approval, a publication) and a few audit events. For the tests that count
queries whatever the head count, and for the benchmark of a 10,000-person company."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Max
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.generation.models import GenerationJob, Headshot, HeadshotStatus, JobStatus
from apps.organizations.models import EmployeeProfile, EmployeeStatus, Membership, Role
from apps.photos.models import ConsentRecord, Photo, PhotoStatus
from apps.photos.selectors import consent_text_current
from apps.presets.selectors import preset_version_latest
from apps.publishing.models import Publication, PublicationStatus, PublicationTarget

STATES = (
    "invited",
    "consented",
    "uploading",
    "generating",
    "awaiting_pick",
    "awaiting_approval",
    "approved",
    "published",
    "failed",
)
CANDIDATES = 4
BATCH = 2000


def crowd(
    c: Any, people: int, *, prefix: str = "member", states: tuple[str, ...] = STATES
) -> list[EmployeeProfile]:
    """``people`` more people in ``c``'s company, the i-th in state ``states[i % len]``
    (every state of the journey by default), ten departments, their days spread over the
    last two months."""
    org = c.org
    domain = org.email_domains[0] if getattr(org, "email_domains", None) else "example.com"
    now = timezone.now()
    version = preset_version_latest(organization=org, preset=c.preset())
    consent_version = consent_text_current(organization=org).version
    users = get_user_model().objects.bulk_create(
        [
            get_user_model()(username=f"{prefix}{i}@{domain}", email=f"{prefix}{i}@{domain}")
            for i in range(people)
        ],
        batch_size=BATCH,
    )
    Membership.objects.bulk_create(
        [Membership(organization=org, user=u, role=Role.EMPLOYEE) for u in users],
        batch_size=BATCH,
    )
    states = [states[i % len(states)] for i in range(people)]
    employees = EmployeeProfile.objects.bulk_create(
        [
            EmployeeProfile(
                organization=org,
                user=None if state == "invited" else users[i],
                full_name=f"Member {i:05d}",
                email=f"{prefix}{i}@{domain}",
                title="Engineer",
                department=f"Department {i % 10}",
                status=EmployeeStatus.INVITED if state == "invited" else EmployeeStatus.ACTIVE,
            )
            for i, state in enumerate(states)
        ],
        batch_size=BATCH,
    )
    day = [now - timedelta(days=i % 60, minutes=i % 1440) for i in range(people)]
    on_the_way = [(e, s, d) for e, s, d in zip(employees, states, day, strict=True)]
    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(organization=org, employee=e, text_version=consent_version, given_at=d)
            for e, s, d in on_the_way
            if s != "invited"
        ],
        batch_size=BATCH,
    )
    Photo.objects.bulk_create(
        [
            Photo(
                organization=org,
                employee=e,
                normalised=f"org-{org.pk}/crowd/{e.pk}-{n}.jpg",
                sha256=f"{e.pk:032x}{n:032x}",
                source_format="JPEG",
                width=1024,
                height=1280,
                status=PhotoStatus.USABLE,
            )
            for e, s, _ in on_the_way
            if s not in ("invited", "consented")
            for n in range(3)
        ],
        batch_size=BATCH,
    )
    job_state = {
        "generating": JobStatus.RUNNING,
        "failed": JobStatus.FAILED,
    }
    with_jobs = [(e, s, d) for e, s, d in on_the_way if s not in STATES[:3]]
    jobs = GenerationJob.objects.bulk_create(
        [
            GenerationJob(
                organization=org,
                employee=e,
                preset_version=version,
                base_seed=e.pk,
                status=job_state.get(s, JobStatus.SUCCEEDED),
                progress=40 if s == "generating" else 100,
                stage="generating" if s == "generating" else "done",
                error="The worker stopped." if s == "failed" else "",
                finished_at=None if s == "generating" else d,
            )
            for e, s, d in with_jobs
        ],
        batch_size=BATCH,
    )
    decided_status = {
        "awaiting_approval": HeadshotStatus.PICKED,
        "approved": HeadshotStatus.APPROVED,
        "published": HeadshotStatus.APPROVED,
    }
    headshots = Headshot.objects.bulk_create(
        [
            Headshot(
                organization=org,
                job=job,
                employee=e,
                key=f"c{rank}",
                image=f"org-{org.pk}/crowd/{job.pk}-{rank}.jpg",
                seed=rank,
                backend="studio",
                scores={"identity": 0.8},
                total_score=0.8,
                accepted=True,
                rank=rank,
                status=decided_status.get(s, HeadshotStatus.CANDIDATE)
                if rank == 1
                else HeadshotStatus.CANDIDATE,
                picked_at=d if rank == 1 and s in decided_status else None,
                decided_at=d if rank == 1 and s in ("approved", "published") else None,
            )
            for job, (e, s, d) in zip(jobs, with_jobs, strict=True)
            if s not in ("generating", "failed")
            for rank in range(1, CANDIDATES + 1)
        ],
        batch_size=BATCH,
    )
    chosen = {h.employee_id: h for h in headshots if h.rank == 1}
    Publication.objects.bulk_create(
        [
            Publication(
                organization=org,
                employee=e,
                headshot=chosen[e.pk],
                target=PublicationTarget.BUSINESS_CARD,
                status=PublicationStatus.SUCCEEDED,
                published_at=d,
            )
            for e, s, d in on_the_way
            if s == "published"
        ],
        batch_size=BATCH,
    )
    _audit(c, employees, day)
    return employees


def _audit(c: Any, employees: list[EmployeeProfile], day: list[Any]) -> None:
    """Three events per person (invited, consent, a photo), appended to the chain's end.
    Their hashes are not a valid chain: enough for lists, not for verifying."""
    org = c.org
    start = AuditEvent.objects.filter(organization=org).aggregate(n=Max("sequence"))["n"] or 0
    actions = ("employee.invited", "consent.given", "photo.uploaded")
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                organization=org,
                actor=c.hr,
                actor_label=c.hr.email,
                action=action,
                target_type="employee",
                target_id=str(e.pk),
                created_at=d + timedelta(seconds=n),
                sequence=start + 1 + 3 * i + n,
                previous_hash="0" * 64,
                hash=f"{start + 1 + 3 * i + n:064x}",
            )
            for i, (e, d) in enumerate(zip(employees, day, strict=True))
            for n, action in enumerate(actions)
        ],
        batch_size=BATCH,
    )
