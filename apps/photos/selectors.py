from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.organizations.models import EmployeeProfile, Organization
from apps.photos.models import ConsentRecord, Photo, PhotoStatus


def consent_current(
    *, organization: Organization, employee: EmployeeProfile
) -> ConsentRecord | None:
    """The employee's standing consent to the current consent text, if any."""
    return (
        ConsentRecord.objects.filter(
            organization=organization,
            employee=employee,
            withdrawn_at__isnull=True,
            text_version=settings.HEADSHOTS["CONSENT_TEXT_VERSION"],
        )
        .order_by("-given_at")
        .first()
    )


def photo_list(*, organization: Organization, employee: EmployeeProfile) -> QuerySet[Photo]:
    return Photo.objects.filter(organization=organization, employee=employee).order_by("created_at")


def photo_get(*, organization: Organization, pk: int) -> Photo:
    photo = Photo.objects.filter(organization=organization, pk=pk).first()
    if photo is None:
        raise NotFound("Not found.")
    return photo


def usable_photo_count(*, organization: Organization, employee: EmployeeProfile) -> int:
    return (
        photo_list(organization=organization, employee=employee)
        .filter(status=PhotoStatus.USABLE)
        .count()
    )
