"""The retention schedule, carried out: a daily purge (from the scheduler) deletes
- selfies and identity embeddings ``retention_days`` after the person's headshot was
  approved;
- everything of a person ``leaver_retention_days`` after they left (their published
  photos are withdrawn first by the directory sync).
Files go from storage and rows from the database; the audit event says what kind of
data went and why, never the data."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core import hooks
from apps.generation.models import Headshot, HeadshotStatus
from apps.organizations.models import EmployeeProfile, EmployeeStatus, Organization
from apps.photos.models import IdentityProfile, Photo
from apps.photos.services import employee_biometrics_delete

logger = logging.getLogger(__name__)


def retention_schedule(organization: Organization) -> list[str]:
    """The schedule as the people see it."""
    leaver = (
        "at once"
        if organization.leaver_retention_days == 0
        else f"{organization.leaver_retention_days} days"
    )
    return [
        f"Your selfies and the face measurements made from them are deleted "
        f"{organization.retention_days} days after your headshot is approved.",
        f"When you leave {organization.name}, everything we keep about you is deleted {leaver} after.",
        "You can delete your selfies and face measurements yourself at any time.",
    ]


def retention_purge(*, now: Any = None) -> dict[str, int]:
    now = now or timezone.now()
    counts = {"people_biometrics": 0, "leavers": 0}
    for organization in Organization.objects.all():
        cutoff = now - timedelta(days=organization.retention_days)
        approved_before = set(
            Headshot.objects.filter(
                organization=organization, status=HeadshotStatus.APPROVED, decided_at__lt=cutoff
            ).values_list("employee_id", flat=True)
        )
        holding = set(
            Photo.objects.filter(organization=organization).values_list("employee_id", flat=True)
        ) | set(
            IdentityProfile.objects.filter(organization=organization).values_list(
                "employee_id", flat=True
            )
        )
        for employee in EmployeeProfile.objects.filter(pk__in=approved_before & holding):
            with transaction.atomic():
                employee_biometrics_delete(
                    organization=organization,
                    employee=employee,
                    actor=None,
                    reason=f"retention: {organization.retention_days} days after approval",
                )
            counts["people_biometrics"] += 1
        left_before = now - timedelta(days=organization.leaver_retention_days)
        leavers = EmployeeProfile.objects.filter(
            organization=organization, status=EmployeeStatus.LEFT, left_at__lte=left_before
        )
        for employee in leavers:
            if _purge_leaver(organization, employee):
                counts["leavers"] += 1
    return counts


def _purge_leaver(organization: Organization, employee: EmployeeProfile) -> bool:
    with transaction.atomic():
        had_biometrics = (
            Photo.objects.filter(employee=employee).exists()
            or IdentityProfile.objects.filter(employee=employee).exists()
        )
        counts = hooks.fire(
            "face.withdrawn",
            organization=organization,
            employee=employee,
            actor=None,
            reason="retention: left",
        )
        headshots = counts.get("headshots", 0)
        if not (had_biometrics or headshots):
            return False
        audit_record(
            organization=organization,
            actor=None,
            action="retention.leaver_purged",
            target=employee,
            data={"headshots": headshots, "biometrics": had_biometrics},
        )
    return True
