from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.organizations.models import EmployeeProfile, Organization
from apps.photos.models import ConsentRecord, ConsentText, Photo, PhotoStatus

STANDARD_TEXT = "standard"


@dataclass(frozen=True)
class CurrentConsentText:
    version: str
    body: str  # "" for the portal's standard text (templates/portal/consent.html)
    sha256: str


def consent_text_current(*, organization: Organization) -> CurrentConsentText:
    """The text people of this company consent to now: the company's newest own text, or
    the portal's standard text (versioned by HEADSHOTS_CONSENT_TEXT_VERSION)."""
    own = (
        ConsentText.objects.filter(organization=organization).order_by("-created_at", "-pk").first()
    )
    if own is not None:
        return CurrentConsentText(own.version, own.body, own.sha256)
    version = settings.HEADSHOTS["CONSENT_TEXT_VERSION"]
    return CurrentConsentText(
        version, "", hashlib.sha256(f"{STANDARD_TEXT}:{version}".encode()).hexdigest()
    )


def consent_current(
    *, organization: Organization, employee: EmployeeProfile
) -> ConsentRecord | None:
    """The employee's standing consent to the current consent text, if any."""
    return (
        ConsentRecord.objects.filter(
            organization=organization,
            employee=employee,
            withdrawn_at__isnull=True,
            text_version=consent_text_current(organization=organization).version,
        )
        .order_by("-given_at")
        .first()
    )


def consent_standing(*, organization: Organization, employee: EmployeeProfile) -> bool:
    """Whether the person's consent stands (given and not withdrawn, to any version of the
    text): what keeps their finished headshots usable. New processing (uploads, checks,
    generation) needs consent to the current text (consent_current)."""
    return ConsentRecord.objects.filter(
        organization=organization, employee=employee, withdrawn_at__isnull=True
    ).exists()


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
