"""Where each of a company's people stands on the way to a published headshot: the HR
dashboard's and the people API's data, read across the journey's apps (consent and
photos, generation, approval, publication). The one place that reads them all together,
above the apps it reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

from apps.generation.models import (
    ACTIVE_JOB_STATES,
    GenerationJob,
    Headshot,
    HeadshotStatus,
    JobStatus,
)
from apps.organizations.models import EmployeeProfile, EmployeeStatus, Organization
from apps.photos.models import ConsentRecord, Photo, PhotoStatus
from apps.photos.selectors import consent_text_current
from apps.publishing.models import Publication, PublicationStatus

# -- the HR dashboard ------------------------------------------------------------------------------
PERSON_STATES = (
    ("invited", "Invited"),
    ("consented", "Consented"),
    ("uploading", "Uploading"),
    ("generating", "Generating"),
    ("awaiting_pick", "Awaiting pick"),
    ("awaiting_approval", "Awaiting approval"),
    ("approved", "Approved"),
    ("published", "Published"),
    ("failed", "Generation failed"),
)
# How long a person may wait in a state before the dashboard calls them stuck.
STUCK_AFTER_DAYS = {
    "invited": 14,
    "consented": 7,
    "uploading": 7,
    "awaiting_pick": 7,
    "awaiting_approval": 3,
}


@dataclass(frozen=True)
class PersonProgress:
    employee: EmployeeProfile
    state: str
    since: datetime
    stuck: bool
    detail: str = ""


def people_progress(
    *,
    organization: Organization,
    now: datetime | None = None,
    employee_ids: list[int] | None = None,
) -> list[PersonProgress]:
    """Where each current person of the company (or only those of ``employee_ids``)
    stands, since when, and whether they are stuck. A handful of queries whatever the
    head count."""
    now = now or timezone.now()
    current = EmployeeProfile.objects.filter(organization=organization).exclude(
        status=EmployeeStatus.LEFT
    )
    if employee_ids is not None:
        current = current.filter(pk__in=employee_ids)
    people = list(current.order_by("full_name"))
    ids = [p.pk for p in people]
    consented = dict(
        ConsentRecord.objects.filter(
            organization=organization,
            employee_id__in=ids,
            withdrawn_at__isnull=True,
            text_version=consent_text_current(organization=organization).version,
        ).values_list("employee_id", "given_at")
    )
    photos = {
        row["employee_id"]: row
        for row in Photo.objects.filter(organization=organization, employee_id__in=ids)
        .values("employee_id")
        .annotate(
            total=Count("id"),
            usable=Count("id", filter=Q(status=PhotoStatus.USABLE)),
            last=Max("created_at"),
        )
    }
    latest_job: dict[int, GenerationJob] = {}
    for each_job in GenerationJob.objects.filter(
        organization=organization, employee_id__in=ids
    ).order_by("employee_id", "-created_at"):
        latest_job.setdefault(each_job.employee_id, each_job)
    decided: dict[int, Headshot] = {}
    for each_headshot in Headshot.objects.filter(
        organization=organization,
        employee_id__in=ids,
        status__in=[HeadshotStatus.PICKED, HeadshotStatus.APPROVED],
    ).order_by("employee_id", "-updated_at"):
        decided.setdefault(each_headshot.employee_id, each_headshot)
    published = dict(
        Publication.objects.filter(
            organization=organization, employee_id__in=ids, status=PublicationStatus.SUCCEEDED
        )
        .values("employee_id")
        .annotate(at=Max("published_at"))
        .values_list("employee_id", "at")
    )
    needed = settings.HEADSHOTS["MIN_USABLE_PHOTOS"]
    result = []
    for person in people:
        job: GenerationJob | None = latest_job.get(person.pk)
        headshot: Headshot | None = decided.get(person.pk)
        since: datetime | None
        detail = ""
        if person.status == EmployeeStatus.INVITED:
            state, since = "invited", person.created_at
        elif person.pk not in consented:
            state, since = "invited", person.created_at
            detail = "signed in, no consent yet"
        elif headshot is not None and headshot.status == HeadshotStatus.APPROVED:
            if person.pk in published:
                state, since = "published", published[person.pk] or headshot.decided_at
            else:
                state, since = "approved", headshot.decided_at
        elif headshot is not None:
            state, since = "awaiting_approval", headshot.picked_at or headshot.updated_at
        elif job is not None and job.status in ACTIVE_JOB_STATES:
            state, since = "generating", job.created_at
            detail = f"{job.stage}, {job.progress}%"
        elif job is not None and job.status == JobStatus.SUCCEEDED:
            state, since = "awaiting_pick", job.finished_at or job.updated_at
        elif job is not None and job.status == JobStatus.FAILED:
            state, since = "failed", job.finished_at or job.updated_at
            detail = job.error[:200]
        else:
            counts = photos.get(person.pk)
            if counts:
                state, since = "uploading", counts["last"]
                detail = f"{counts['usable']} of {needed} usable photos"
            else:
                state, since = "consented", consented[person.pk]
        limit = STUCK_AFTER_DAYS.get(state)
        stuck = state == "failed" or (
            limit is not None and since is not None and (now - since).days >= limit
        )
        if state == "generating" and job is not None:
            stuck = (now - job.created_at).total_seconds() > settings.HEADSHOTS["JOB_STUCK_AFTER_S"]
        result.append(PersonProgress(person, state, since or person.created_at, stuck, detail))
    return result
