from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.journey import JourneyQuerySet
from apps.core.models import TenantOwned


class ConsentText(TenantOwned):
    """A company's own consent text. The newest one is current; publishing a new one asks
    everyone to consent again before their photos are processed any further."""

    version = models.CharField(max_length=40)
    body = models.TextField(max_length=20_000)
    sha256 = models.CharField(max_length=64)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "version"], name="consent_text_version_per_company"
            )
        ]


class ConsentRecord(TenantOwned):
    employee = models.ForeignKey(
        "organizations.EmployeeProfile", on_delete=models.CASCADE, related_name="consents"
    )
    text_version = models.CharField(max_length=40)
    # the text the person agreed to, by its hash (the company's text, or the standard one)
    text_sha256 = models.CharField(max_length=64, blank=True)
    given_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    # a change to these moves the person along the journey (apps.core.journey)
    JOURNEY_FIELDS = frozenset({"text_version", "given_at", "withdrawn_at"})
    JOURNEY_PERSON = "employee_id"
    objects = JourneyQuerySet.as_manager()


class PhotoStatus(models.TextChoices):
    PENDING = "pending"
    USABLE = "usable"
    UNUSABLE = "unusable"
    ERROR = "error"


class Photo(TenantOwned):
    """A selfie. Both files are private: never served from a public URL."""

    employee = models.ForeignKey(
        "organizations.EmployeeProfile", on_delete=models.CASCADE, related_name="photos"
    )
    # The only copy kept: re-encoded from the decoded pixels (no metadata, no trailing
    # data), at most 2048 px. The upload itself is never stored.
    normalised = models.FileField(max_length=300)
    sha256 = models.CharField(max_length=64)
    source_format = models.CharField(max_length=10)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=PhotoStatus.choices, default=PhotoStatus.PENDING
    )
    report = models.JSONField(default=dict, blank=True)
    embedding = models.BinaryField(null=True, blank=True)
    face_backend = models.CharField(max_length=40, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    # a change to these moves the person along the journey (apps.core.journey)
    JOURNEY_FIELDS = frozenset({"status"})
    JOURNEY_PERSON = "employee_id"
    objects = JourneyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["employee", "sha256"], name="photo_once_per_employee")
        ]


class IdentityProfile(TenantOwned):
    employee = models.OneToOneField(
        "organizations.EmployeeProfile", on_delete=models.CASCADE, related_name="identity"
    )
    embedding = models.BinaryField()
    face_backend = models.CharField(max_length=40)
    photo_ids = models.JSONField(default=list)
    outlier_photo_ids = models.JSONField(default=list)
    consistent = models.BooleanField(default=True)
    # What generation must keep: skin tone (CIELAB, ITA), glasses, facial hair, hair colour.
    attributes = models.JSONField(default=dict, blank=True)
    # The person's own model (a LoRA trained from these photos, the diffusion backend's
    # "lora" identity method): biometric-derived, stored encrypted in private storage,
    # deleted with the photos. The key says what it was made from (photos, training, base
    # model): a job with the same key reuses it.
    person_model_file = models.CharField(max_length=255, blank=True)
    person_model_key = models.CharField(max_length=64, blank=True)
    person_model_info = models.JSONField(default=dict, blank=True)
