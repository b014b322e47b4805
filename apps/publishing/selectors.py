from __future__ import annotations

from collections.abc import Container

from django.db.models import QuerySet, prefetch_related_objects

from apps.core.errors import found
from apps.organizations.models import EmployeeProfile, Organization
from apps.publishing.models import Publication, PublicationStatus


def publication_list(
    *, organization: Organization, employee: EmployeeProfile | None = None
) -> QuerySet[Publication]:
    publications = Publication.objects.filter(organization=organization).order_by(
        "employee_id", "target"
    )
    if employee is not None:
        publications = publications.filter(employee=employee)
    return publications


def publication_get(*, organization: Organization, pk: int) -> Publication:
    return found(Publication.objects.filter(organization=organization, pk=pk))


def publication_in_another_directory(publication: Publication) -> bool:
    """The same photo of the person already reached another directory (one mail for it)."""
    from apps.publishing.models import LIVE_DIRECTORY_TARGETS, PublicationStatus

    return (
        publication.target in LIVE_DIRECTORY_TARGETS
        and Publication.objects.filter(
            employee_id=publication.employee_id,
            headshot_id=publication.headshot_id,
            target__in=LIVE_DIRECTORY_TARGETS,
            status=PublicationStatus.SUCCEEDED,
            published_at__isnull=False,
        )
        .exclude(pk=publication.pk)
        .exists()
    )


def published_leavers(
    publications: dict[int, Publication], wanted: Container[str]
) -> list[Publication]:
    """The publications still in a directory of people not ``wanted`` there (by employee
    id), with their people read in one query."""
    leavers = [
        p
        for employee_id, p in publications.items()
        if str(employee_id) not in wanted and p.status == PublicationStatus.SUCCEEDED
    ]
    prefetch_related_objects(leavers, "employee")
    return leavers
