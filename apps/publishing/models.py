from __future__ import annotations

from django.db import models

from apps.core.models import TenantOwned


class PublicationTarget(models.TextChoices):
    BUSINESS_CARD = "business_card", "Business card PDF"
    DIRECTORY_EXPORT = "directory_export", "Directory export (LDIF)"


class PublicationStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


class Publication(TenantOwned):
    """Where a person's approved headshot is published; one row per person and target."""

    employee = models.ForeignKey(
        "organizations.EmployeeProfile", on_delete=models.CASCADE, related_name="publications"
    )
    headshot = models.ForeignKey(
        "generation.Headshot", on_delete=models.PROTECT, related_name="publications"
    )
    target = models.CharField(max_length=32, choices=PublicationTarget.choices)
    status = models.CharField(
        max_length=16, choices=PublicationStatus.choices, default=PublicationStatus.PENDING
    )
    external_id = models.CharField(max_length=500, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    artifact = models.FileField(max_length=300, blank=True)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "target"], name="one_publication_per_target"
            )
        ]
