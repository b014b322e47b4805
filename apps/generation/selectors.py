from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.generation.models import GenerationJob, Headshot, HeadshotStatus
from apps.organizations.models import EmployeeProfile, Organization


def job_get(*, organization: Organization, pk: int) -> GenerationJob:
    job = GenerationJob.objects.filter(organization=organization, pk=pk).first()
    if job is None:
        raise NotFound("Not found.")
    return job


def job_list(
    *, organization: Organization, employee: EmployeeProfile | None = None
) -> QuerySet[GenerationJob]:
    jobs = GenerationJob.objects.filter(organization=organization).order_by("-created_at")
    if employee is not None:
        jobs = jobs.filter(employee=employee)
    return jobs


def headshot_get(*, organization: Organization, pk: int) -> Headshot:
    headshot = Headshot.objects.filter(organization=organization, pk=pk).first()
    if headshot is None:
        raise NotFound("Not found.")
    return headshot


def headshot_list_for_job(*, organization: Organization, job: GenerationJob) -> QuerySet[Headshot]:
    """The gallery: accepted candidates best first, then the rejected ones with their reasons."""
    return Headshot.objects.filter(organization=organization, job=job).order_by(
        "-accepted", "rank", "key"
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
