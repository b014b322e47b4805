from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from apps.core.errors import found
from apps.generation.models import GenerationJob, Headshot, HeadshotStatus, JobStatus
from apps.organizations.models import EmployeeProfile, Organization


def job_get(*, organization: Organization, pk: int) -> GenerationJob:
    return found(
        GenerationJob.objects.select_related("employee", "preset_version").filter(
            organization=organization, pk=pk
        )
    )


def job_list(
    *, organization: Organization, employee: EmployeeProfile | None = None
) -> QuerySet[GenerationJob]:
    jobs = GenerationJob.objects.filter(organization=organization).order_by("-created_at")
    if employee is not None:
        jobs = jobs.filter(employee=employee)
    return jobs


def headshot_get(*, organization: Organization, pk: int) -> Headshot:
    return found(
        Headshot.objects.filter(organization=organization, pk=pk).exclude(
            status=HeadshotStatus.WITHDRAWN
        )
    )


def headshot_list_for_job(*, organization: Organization, job: GenerationJob) -> QuerySet[Headshot]:
    """The gallery: accepted candidates best first, then the rejected ones with their reasons."""
    return (
        Headshot.objects.filter(organization=organization, job=job)
        .exclude(status=HeadshotStatus.WITHDRAWN)
        .order_by("-accepted", "rank", "key")
    )


def approval_queue(*, organization: Organization) -> QuerySet[Headshot]:
    return (
        Headshot.objects.filter(organization=organization, status=HeadshotStatus.PICKED)
        .select_related("employee")
        .order_by("picked_at")
    )


def headshot_approved_latest(
    *, organization: Organization, employee: EmployeeProfile
) -> Headshot | None:
    return (
        Headshot.objects.filter(
            organization=organization, employee=employee, status=HeadshotStatus.APPROVED
        )
        .order_by("-decided_at")
        .first()
    )


# What a directory sync does not read of a headshot and its person unless the photo must
# be made again (then each is loaded when first read): a company's whole list is read at
# every hourly sync, and its dates and texts are most of what reading it costs.
LIGHT_DEFERRED = (
    "scores",
    "info",
    "prompt",
    "negative_prompt",
    "reason",
    "rejection_reason",
    "created_at",
    "updated_at",
    "picked_at",
    "decided_at",
    "print_error",
    "employee__created_at",
    "employee__updated_at",
    "employee__scim_deleted_at",
    "employee__left_at",
)


def headshots_approved_latest(
    *, organization: Organization, light: bool = False, **filters: object
) -> list[Headshot]:
    """Each person's most recently approved headshot (``filters`` narrow the people, e.g.
    ``employee__department=...``), in the order of their names. ``light``: without what
    only making the photo reads (LIGHT_DEFERRED)."""
    approved = (
        Headshot.objects.filter(
            organization=organization, status=HeadshotStatus.APPROVED, **filters
        )
        .select_related("employee")
        .order_by("employee__full_name", "employee_id", "-decided_at")
    )
    if light:
        approved = approved.defer(*LIGHT_DEFERRED)
    latest: dict[int, Headshot] = {}
    for headshot in approved:
        latest.setdefault(headshot.employee_id, headshot)
    return list(latest.values())


def job_counts_by_state() -> dict[str, int]:
    """All companies' jobs by state: for the operators' health page and metrics only."""
    from django.db.models import Count

    from apps.generation.models import JobStatus

    counts = dict.fromkeys(JobStatus.values, 0)
    for row in GenerationJob.objects.values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


def job_durations_since(since: datetime) -> list[float]:
    """Seconds from start to end of the jobs that succeeded since ``since`` (all companies)."""
    from apps.generation.models import JobStatus

    durations = []
    for timings in GenerationJob.objects.filter(
        status=JobStatus.SUCCEEDED, finished_at__gte=since
    ).values_list("timings", flat=True):
        if isinstance(timings, dict) and "total_s" in timings:
            durations.append(float(timings["total_s"]))
    return durations


def round_words(
    *, organization: Organization, employee: EmployeeProfile, job: GenerationJob | None
) -> str:
    """Where the person's last round stands, in a sentence for their page."""
    if job is None:
        return ""
    if job.status == JobStatus.FAILED:
        return "The last round did not finish. Start a new one from the selfies page."
    if job.status == JobStatus.CANCELLED:
        return "The last round was stopped."
    if job.status != JobStatus.SUCCEEDED:
        return ""
    latest = (
        Headshot.objects.filter(organization=organization, employee=employee)
        .exclude(status__in=[HeadshotStatus.CANDIDATE, HeadshotStatus.WITHDRAWN])
        .order_by("-updated_at")
        .first()
    )
    if latest is not None and latest.job_id == job.pk:
        if latest.status == HeadshotStatus.PICKED:
            return "You picked a headshot: it is waiting for HR's approval."
        if latest.status == HeadshotStatus.APPROVED:
            return "HR approved your pick."
        if latest.status == HeadshotStatus.REJECTED:
            return (
                f"HR sent your pick back: {latest.rejection_reason} Pick another one, or "
                "make new ones."
            )
    if not job.headshots.filter(accepted=True).exists():
        return "None of the last round's headshots passed our checks. Try other selfies."
    return "Your headshots are ready: pick the one you like."
