from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.journey import JourneyQuerySet
from apps.core.models import TenantOwned, TimeStamped


class Organization(TimeStamped):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    email_domains = models.JSONField(
        default=list, help_text="Lower-case domains whose people belong here."
    )
    retention_days = models.PositiveIntegerField(
        default=30, help_text="Days after approval before selfies and embeddings are deleted."
    )
    leaver_retention_days = models.PositiveIntegerField(
        default=0, help_text="Days after a person leaves before everything of theirs is deleted."
    )
    invitation_reminder_days = models.PositiveIntegerField(
        default=3, help_text="Days after an unanswered invitation before one reminder is sent."
    )
    brand = models.JSONField(default=dict, blank=True, help_text="Card colours, fonts and logo.")
    publish_on_approval = models.BooleanField(
        default=False,
        help_text="Make the business card and the directory export as soon as HR approves.",
    )

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    HR = "hr", "HR"
    APPROVER = "approver", "Approver"
    EMPLOYEE = "employee", "Employee"


APPROVER_ROLES = frozenset({Role.ADMIN, Role.HR, Role.APPROVER})
MANAGER_ROLES = frozenset({Role.ADMIN, Role.HR})


class Membership(TenantOwned):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    # the optional mail this person turned off (apps.organizations.notifications.OPTIONAL)
    mail_off = models.JSONField(default=list, blank=True)
    # approvers: when the last "waiting for your approval" mail went out
    approvals_mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="one_membership_per_company"
            )
        ]


class EmployeeStatus(models.TextChoices):
    INVITED = "invited"
    ACTIVE = "active"
    LEFT = "left"


class EmployeeProfile(TenantOwned):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="employee_profiles",
    )
    full_name = models.CharField(max_length=200)
    # the name's parts as the identity provider gives them (SCIM); empty: not known
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200, blank=True)
    department = models.CharField(max_length=200, blank=True)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    directory_uid = models.CharField(
        max_length=200, blank=True, help_text="The person's identifier in the directory."
    )
    # The identity provider's id for the person (SCIM externalId).
    external_id = models.CharField(max_length=200, blank=True, db_index=True)
    manager_email = models.EmailField(blank=True)
    # deleted by the identity provider over SCIM: deprovisioned, and gone to that client
    scim_deleted_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=EmployeeStatus.choices, default=EmployeeStatus.INVITED
    )
    left_at = models.DateTimeField(null=True, blank=True)
    # Where the person stands on the way to a published headshot and since when, kept by
    # the people app (apps.people.standing) so that HR's dashboard counts and pages a
    # large company by index. Empty until first worked out.
    journey_state = models.CharField(max_length=20, blank=True, default="")
    journey_since = models.DateTimeField(null=True, blank=True)

    # a change to these moves the person along the journey (apps.core.journey)
    JOURNEY_FIELDS = frozenset({"status"})
    JOURNEY_PERSON = "pk"
    objects = JourneyQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "full_name", "id"], name="person_by_name_idx"),
            models.Index(
                fields=["organization", "journey_state", "journey_since"], name="person_state_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "email"], name="one_profile_per_email"),
            models.UniqueConstraint(
                fields=["organization", "user"],
                condition=models.Q(user__isnull=False),
                name="one_profile_per_user",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name


class Invitation(TenantOwned):
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EMPLOYEE)
    employee = models.ForeignKey(
        EmployeeProfile, on_delete=models.CASCADE, related_name="invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class InviteLink(TenantOwned):
    """A link HR shares (on the intranet, in a chat): anyone signed in with an address in
    the company's domains may join through it, up to ``max_uses`` times, until it expires."""

    token_hash = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EMPLOYEE)
    max_uses = models.PositiveIntegerField()
    uses = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(uses__lte=models.F("max_uses")), name="link_use_cap"
            )
        ]


class ApiToken(TenantOwned):
    """A company's integration key. It acts as the person who created it, inside this
    company only, and only for its scopes; only a hash of the token is kept."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)  # shown in lists, to tell tokens apart
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdentityProvider(TenantOwned):
    """The company's single sign-on: OpenID Connect or SAML 2.0."""

    class Kind(models.TextChoices):
        OIDC = "oidc", "OpenID Connect"
        SAML = "saml", "SAML 2.0"

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.OIDC)
    enabled = models.BooleanField(default=True)
    # OpenID Connect
    issuer = models.URLField(
        max_length=300, blank=True, help_text="The provider's issuer URL (discovery)."
    )
    client_id = models.CharField(max_length=200, blank=True)
    # The client secret typed by the platform administrator, encrypted
    # (apps.organizations.tenant_secrets); the operator's HEADSHOTS_OIDC_SECRET__<COMPANY>
    # variable takes precedence.
    client_secret_sealed = models.TextField(blank=True, editable=False)
    # SAML 2.0: the identity provider's metadata (entity id, sign-on URL, signing
    # certificate) and the attributes that carry the person's address and name
    saml_metadata = models.TextField(blank=True)
    saml_email_attribute = models.CharField(max_length=200, default="email", blank=True)
    saml_name_attribute = models.CharField(max_length=200, default="displayName", blank=True)
    # the claim (OIDC) or attribute (SAML) that lists the person's groups
    groups_claim = models.CharField(max_length=100, default="groups")
    # role -> the IdP groups that give it, e.g. {"hr": ["HR-Admins"], "approver": ["People-Leads"]}
    role_groups = models.JSONField(default=dict, blank=True)
    jit = models.BooleanField(
        default=True, help_text="People of the company's domains join at their first sign-in."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], name="one_identity_provider_per_company"
            )
        ]

    def __str__(self) -> str:
        return self.issuer
