from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import TenantOwned, TimeStamped


class BrandPreset(TenantOwned):
    slug = models.SlugField(max_length=60)
    name = models.CharField(max_length=120)
    archived = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="preset_slug_per_company")
        ]

    def __str__(self) -> str:
        return self.name


class BrandPresetVersion(TimeStamped):
    """One version of a preset. Once a job has used it (locked_at set) it never changes."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    preset = models.ForeignKey(BrandPreset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    spec = models.JSONField()
    locked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["preset", "number"], name="preset_version_number")
        ]
        ordering = ["preset", "-number"]

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None
