from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from apps.core.journey import JourneyQuerySet
from apps.core.models import TenantOwned

if TYPE_CHECKING:
    from apps.organizations.models import EmployeeProfile


class PublicationTarget(models.TextChoices):
    BUSINESS_CARD = "business_card", "Business card PDF"
    DIRECTORY_EXPORT = "directory_export", "Directory export (LDIF)"
    DIRECTORY_LDAP = "directory_ldap", "Directory photo (LDAP / Active Directory)"
    DIRECTORY_GRAPH = "directory_graph", "Microsoft 365 photo (Entra ID)"
    DIRECTORY_GOOGLE = "directory_google", "Google Workspace photo"


# The directories a photo is written into: it stays recorded until the sync removed it.
LIVE_DIRECTORY_TARGETS = (
    "directory_ldap",
    "directory_graph",
    "directory_google",
)


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
    # what the photo sent to a cloud directory was made from (headshot and variant):
    # while it stays the same, the photo is neither made nor sent again
    source = models.CharField(max_length=40, blank=True)
    artifact = models.FileField(max_length=300, blank=True)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)

    # a change to these moves the person along the journey (apps.core.journey)
    JOURNEY_FIELDS = frozenset({"status", "published_at"})
    JOURNEY_PERSON = "employee_id"
    objects = JourneyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "target"], name="one_publication_per_target"
            )
        ]

    def synced(self) -> tuple[object, ...]:
        """What a directory sync records here: a sync saves the row only when it changed."""
        return (
            self.headshot_id,
            self.external_id,
            self.attempts,
            self.status,
            self.content_hash,
            self.source,
            self.last_error,
            self.published_at,
        )


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


class CloudKind(models.TextChoices):
    GRAPH = "graph", "Microsoft Entra ID / Microsoft 365"
    GOOGLE = "google", "Google Workspace"


class CloudDirectory(TenantOwned):
    """A company's Microsoft Entra ID or Google Workspace, where approved headshots become
    the photo people see in Teams and Outlook, or Gmail, Chat and Meet. The credential
    (a client secret, a certificate's private key, a service account key) is typed by HR
    and stored encrypted, or provided by the platform operator (tenant_secrets)."""

    kind = models.CharField(max_length=10, choices=CloudKind.choices)
    enabled = models.BooleanField(default=True)
    # Microsoft: the directory (tenant) and the application registered in it
    tenant_id = models.CharField(max_length=100, blank=True)
    client_id = models.CharField(max_length=100, blank=True)
    certificate = models.TextField(blank=True)  # PEM, public: for a certificate credential
    match_by = models.CharField(
        max_length=20,
        choices=[
            ("userPrincipalName", "User principal name (the work address)"),
            ("mail", "Mail address"),
            ("id", "Object id (from the identity provider)"),
        ],
        default="userPrincipalName",
    )
    # Google: the administrator the service account acts as
    admin_email = models.EmailField(blank=True)
    credential_sealed = models.TextField(blank=True, editable=False)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_report = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind"], name="one_cloud_per_kind")
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def target(self) -> str:
        return (
            PublicationTarget.DIRECTORY_GRAPH
            if self.kind == CloudKind.GRAPH
            else PublicationTarget.DIRECTORY_GOOGLE
        )

    def match_value(self, employee: EmployeeProfile) -> str:
        if self.kind == CloudKind.GRAPH and self.match_by == "id":
            return employee.external_id
        return employee.email
