from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.organizations.models import EmployeeProfile, Organization
from apps.publishing.models import Publication


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
    publication = Publication.objects.filter(organization=organization, pk=pk).first()
    if publication is None:
        raise NotFound("Not found.")
    return publication
