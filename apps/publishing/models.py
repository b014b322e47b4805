from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from apps.core.models import TenantOwned

if TYPE_CHECKING:
    from apps.organizations.models import EmployeeProfile


class PublicationTarget(models.TextChoices):
    BUSINESS_CARD = "business_card", "Business card PDF"
    DIRECTORY_EXPORT = "directory_export", "Directory export (LDIF)"
    DIRECTORY_LDAP = "directory_ldap", "Directory photo (LDAP / Active Directory)"


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


class MatchField(models.TextChoices):
    EMAIL = "email", "E-mail address"
    DIRECTORY_UID = "directory_uid", "Directory identifier"


class DirectoryConnection(TenantOwned):
    """A company's LDAP / Active Directory, where approved headshots are published."""

    enabled = models.BooleanField(default=True)
    uri = models.CharField(max_length=300, help_text="ldaps://host or ldap://host with StartTLS")
    start_tls = models.BooleanField(default=True)
    bind_dn = models.CharField(max_length=500)
    # The bind password HR typed, encrypted (apps.organizations.tenant_secrets); the
    # platform operator's HEADSHOTS_LDAP_SECRET__<COMPANY> variable takes precedence.
    bind_password_sealed = models.TextField(blank=True, editable=False)
    base_dn = models.CharField(max_length=500)
    user_filter = models.CharField(max_length=500, default="(objectClass=inetOrgPerson)")
    match_attribute = models.CharField(
        max_length=40,
        choices=[(a, a) for a in ("mail", "userPrincipalName", "uid", "sAMAccountName")],
        default="mail",
    )
    match_field = models.CharField(
        max_length=20, choices=MatchField.choices, default=MatchField.EMAIL
    )
    photo_attribute = models.CharField(
        max_length=40,
        choices=[
            ("jpegPhoto", "jpegPhoto"),
            ("thumbnailPhoto", "thumbnailPhoto (Active Directory)"),
        ],
        default="jpegPhoto",
    )
    max_bytes = models.PositiveIntegerField(default=102_400)
    max_side = models.PositiveSmallIntegerField(default=648)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_report = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="one_directory_per_company")
        ]

    def __str__(self) -> str:
        return self.uri

    def match_value(self, employee: EmployeeProfile) -> str:
        """What identifies the person in the directory: their e-mail or directory identifier."""
        return employee.email if self.match_field == MatchField.EMAIL else employee.directory_uid
