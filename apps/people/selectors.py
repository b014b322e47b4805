"""Where each of a company's people stands on the way to a published headshot: the HR
dashboard's and the people API's data, read across the journey's apps (consent and
photos, generation, approval, publication). The one place that reads them all together,
above the apps it reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, Max, Model, Q, QuerySet, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.core.queries import Epoch
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
DAY_S = 86_400
STUCK_AFTER_DAYS = {
    "invited": 14,
    "consented": 7,
    "uploading": 7,
    "awaiting_pick": 7,
    "awaiting_approval": 3,
}


@dataclass(frozen=True)
class Standing:
    """Where one person stands, without their profile: what a company's whole list is
    made of (a few hundred bytes a person), the profiles loaded only for the page shown."""

    employee_id: int
    name: str
    department: str
    state: str
    since_s: float  # seconds since 1970
    stuck: bool
    detail: str = ""

    @property
    def since(self) -> datetime:
        return datetime.fromtimestamp(self.since_s, tz=UTC)


@dataclass(frozen=True)
class PersonProgress:
    employee: EmployeeProfile
    state: str
    since: datetime
    stuck: bool
    detail: str = ""


def people_standing(
    *,
    organization: Organization,
    now: datetime | None = None,
    employee_ids: list[int] | None = None,
) -> list[Standing]:
    """Where each current person of the company (or only those of ``employee_ids``)
    stands, since when, and whether they are stuck, ordered by name. Six queries whatever
    the head count, each reading only the columns the states need (no model is built:
    a 10,000-person company is read in a fraction of a second)."""
    now_s = (now or timezone.now()).timestamp()

    def mine(model: type[Model]) -> QuerySet[Any]:
        rows = model.objects.filter(organization=organization)  # type: ignore[attr-defined]
        return rows if employee_ids is None else rows.filter(employee_id__in=employee_ids)

    # Every date is read as seconds since 1970, one per row, chosen in the database:
    # the database driver takes many times longer to read a date than a number, and a
    # large company's list reads tens of thousands.
    current = EmployeeProfile.objects.filter(organization=organization).exclude(
        status=EmployeeStatus.LEFT
    )
    if employee_ids is not None:
        current = current.filter(pk__in=employee_ids)
    people = current.order_by("full_name", "pk").values_list(
        "pk", "full_name", "department", "status", Epoch("created_at")
    )
    consented = dict(
        mine(ConsentRecord)
        .filter(
            withdrawn_at__isnull=True,
            text_version=consent_text_current(organization=organization).version,
        )
        .values_list("employee_id", Epoch("given_at"))
    )
    photos = {
        employee: (usable, last)
        for employee, usable, last in mine(Photo)
        .values("employee_id")
        .annotate(
            usable=Count("id", filter=Q(status=PhotoStatus.USABLE)),
            last=Epoch(Max("created_at")),
        )
        .values_list("employee_id", "usable", "last")
    }
    latest_job: dict[int, tuple[Any, ...]] = {}
    for row in (
        mine(GenerationJob)
        .order_by("employee_id", "-created_at")
        .values_list(
            "employee_id",
            "status",
            "stage",
            "progress",
            Epoch(
                Case(
                    When(status__in=list(ACTIVE_JOB_STATES), then="created_at"),
                    default=Coalesce("finished_at", "updated_at"),
                )
            ),
            "error",
        )
    ):
        latest_job.setdefault(row[0], row)
    decided: dict[int, tuple[Any, ...]] = {}
    for row in (
        mine(Headshot)
        .filter(status__in=[HeadshotStatus.PICKED, HeadshotStatus.APPROVED])
        .order_by("employee_id", "-updated_at")
        .values_list(
            "employee_id",
            "status",
            Epoch(
                Case(
                    When(status=HeadshotStatus.APPROVED, then="decided_at"),
                    default=Coalesce("picked_at", "updated_at"),
                )
            ),
        )
    ):
        decided.setdefault(row[0], row)
    published = dict(
        mine(Publication)
        .filter(status=PublicationStatus.SUCCEEDED)
        .values("employee_id")
        .annotate(at=Epoch(Max("published_at")))
        .values_list("employee_id", "at")
    )
    needed = settings.HEADSHOTS["MIN_USABLE_PHOTOS"]
    stuck_after_s = settings.HEADSHOTS["JOB_STUCK_AFTER_S"]
    result = []
    for pk, name, department, status, created_s in people:
        job = latest_job.get(pk)
        headshot = decided.get(pk)
        since: float | None
        detail = ""
        if status == EmployeeStatus.INVITED:
            state, since = "invited", created_s
        elif pk not in consented:
            state, since = "invited", created_s
            detail = "signed in, no consent yet"
        elif headshot is not None and headshot[1] == HeadshotStatus.APPROVED:
            if pk in published:
                state, since = "published", published[pk] or headshot[2]
            else:
                state, since = "approved", headshot[2]
        elif headshot is not None:
            state, since = "awaiting_approval", headshot[2]
        elif job is not None and job[1] in ACTIVE_JOB_STATES:
            state, since = "generating", job[4]
            detail = f"{job[2]}, {job[3]}%"
        elif job is not None and job[1] == JobStatus.SUCCEEDED:
            state, since = "awaiting_pick", job[4]
        elif job is not None and job[1] == JobStatus.FAILED:
            state, since = "failed", job[4]
            detail = job[5][:200]
        elif pk in photos:
            usable, last = photos[pk]
            state, since = "uploading", last
            detail = f"{usable} of {needed} usable photos"
        else:
            state, since = "consented", consented[pk]
        limit = STUCK_AFTER_DAYS.get(state)
        stuck = state == "failed" or (
            limit is not None and since is not None and now_s - since >= limit * DAY_S
        )
        if state == "generating" and job is not None:
            stuck = now_s - job[4] > stuck_after_s
        result.append(Standing(pk, name, department, state, since or created_s, stuck, detail))
    return result


# -- the stored standing: counted and paged by index (kept by apps.people.standing) --------------
def people_current(*, organization: Organization) -> QuerySet[EmployeeProfile]:
    """The company's current people (not those who left), by name."""
    return (
        EmployeeProfile.objects.filter(organization=organization)
        .exclude(status=EmployeeStatus.LEFT)
        .order_by("full_name", "pk")
    )


def people_state_counts(*, organization: Organization) -> dict[str, int]:
    """How many current people stand in each state: one GROUP BY."""
    return dict(
        people_current(organization=organization)
        .order_by()
        .values("journey_state")
        .annotate(n=Count("id"))
        .values_list("journey_state", "n")
    )


def stuck_filter(now: datetime) -> Q:
    """The stored standings the dashboard calls stuck (as people_standing decides it)."""
    stuck = Q(journey_state="failed") | Q(
        journey_state="generating",
        journey_since__lt=now - timedelta(seconds=settings.HEADSHOTS["JOB_STUCK_AFTER_S"]),
    )
    for state, days in STUCK_AFTER_DAYS.items():
        stuck |= Q(journey_state=state, journey_since__lte=now - timedelta(days=days))
    return stuck


def people_filtered(
    *,
    organization: Organization,
    state: str = "",
    department: str = "",
    stuck: bool = False,
    now: datetime | None = None,
) -> QuerySet[EmployeeProfile]:
    """The current people in ``state``, of ``department``, stuck: by name."""
    people = people_current(organization=organization)
    if state:
        people = people.filter(journey_state=state)
    if department:
        people = people.filter(department=department)
    if stuck:
        people = people.filter(stuck_filter(now or timezone.now()))
    return people


def people_stuck_longest(
    *, organization: Organization, now: datetime | None = None, limit: int = 20
) -> QuerySet[EmployeeProfile]:
    """The people stuck the longest first."""
    return (
        people_current(organization=organization)
        .filter(stuck_filter(now or timezone.now()))
        .order_by("journey_since", "pk")[:limit]
    )
