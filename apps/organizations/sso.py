"""Company single sign-on with OpenID Connect: authorization code flow with PKCE (S256),
the ID token checked (RS256 signature from the provider's keys, issuer, audience,
expiry, nonce), people routed to their company's provider by their e-mail domain,
just-in-time membership for the company's domains, and roles from the provider's groups.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from apps.audit.services import audit_record
from apps.core.errors import PermissionDenied, ValidationFailed
from apps.core.text import display_text, text_problem
from apps.organizations.models import (
    EmployeeProfile,
    EmployeeStatus,
    IdentityProvider,
    Membership,
    Organization,
    Role,
)
from apps.organizations.services import user_get_or_create
from apps.organizations.tenant_secrets import SecretMissing, tenant_secret

logger = logging.getLogger(__name__)
SCOPES = "openid email profile"
ROLE_ORDER = (Role.ADMIN, Role.HR, Role.APPROVER)  # the strongest mapped group wins
NAME_MAX = 200  # EmployeeProfile.full_name
EMAIL_MAX = 150  # the username is the address


def provider_for_email(email: str) -> IdentityProvider | None:
    domain = email.strip().lower().rsplit("@", 1)[-1] if "@" in email else ""
    if not domain:
        return None
    for provider in IdentityProvider.objects.filter(enabled=True).select_related("organization"):
        if domain in provider.organization.email_domains:
            return provider
    return None


def oidc_client(provider: IdentityProvider) -> Any:
    """Authlib's client for this company's provider (discovery from the issuer)."""
    from authlib.integrations.django_client import OAuth

    try:
        secret = tenant_secret(
            kind="oidc", organization=provider.organization, sealed=provider.client_secret_sealed
        )
    except SecretMissing as exc:
        logger.error("single sign-on for %s: %s", provider.organization.slug, exc.message)
        raise ValidationFailed(
            "Single sign-on is not ready for your company yet. Ask your HR team to contact "
            "the portal's administrator."
        ) from exc
    scopes = SCOPES + (f" {provider.groups_claim}" if provider.groups_claim == "groups" else "")
    oauth = OAuth()
    return oauth.register(
        name=f"company-{provider.organization_id}",
        client_id=provider.client_id,
        client_secret=secret,
        server_metadata_url=provider.issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": scopes, "code_challenge_method": "S256"},
    )


def role_from_groups(provider: IdentityProvider, groups: Any) -> str:
    names = {str(g) for g in groups} if isinstance(groups, list) else set()
    mapping = provider.role_groups or {}
    for role in ROLE_ORDER:
        if names & set(mapping.get(str(role), [])):
            return str(role)
    return str(Role.EMPLOYEE)


@transaction.atomic
def sso_sign_in(*, provider: IdentityProvider, claims: dict[str, Any]) -> User:
    """The person the provider vouches for, as one of the company's people: refused unless
    their verified address is in the company's domains and they belong (or may join)."""
    organization: Organization = provider.organization
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is False:
        raise PermissionDenied("Your company account has no verified e-mail address.")
    if text_problem(email, limit=EMAIL_MAX, what="address") or "@" not in email:
        raise PermissionDenied(
            "Your company account's e-mail address cannot be used here (it is too long or "
            "not an address). Ask your IT team to check it."
        )
    domain = email.rsplit("@", 1)[-1]
    if domain not in organization.email_domains:
        raise PermissionDenied(
            f"{email} is not an address of {organization.name}; sign in with your company account."
        )
    employee = EmployeeProfile.objects.filter(organization=organization, email=email).first()
    if employee is not None and employee.status == EmployeeStatus.LEFT:
        raise PermissionDenied(f"Your access to {organization.name} has ended.")
    if employee is None and not provider.jit:
        raise PermissionDenied(
            f"You have not been invited to {organization.name} yet. Ask your HR team."
        )
    # A provider's name claim can be anything: shown as text, cut to what a name may hold.
    name = display_text(str(claims.get("name") or ""), limit=NAME_MAX) or email.split("@")[0]
    user = user_get_or_create(email=email, full_name=name)
    if employee is None:
        employee = EmployeeProfile.objects.create(
            organization=organization, email=email, full_name=name
        )
        audit_record(
            organization=organization,
            actor=user,
            action="employee.joined",
            target=employee,
            data={"source": "sso"},
        )
    if employee.user_id != user.pk or employee.status != EmployeeStatus.ACTIVE:
        employee.user = user
        employee.status = EmployeeStatus.ACTIVE
        employee.save(update_fields=["user", "status", "updated_at"])
    role = role_from_groups(provider, claims.get(provider.groups_claim))
    membership, created = Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    # With a group mapping the provider decides roles at every sign-in; without one, the
    # roles HR gave in the portal stay.
    if not created and provider.role_groups and membership.role != role:
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        audit_record(
            organization=organization,
            actor=user,
            action="membership.role_changed",
            target=membership,
            data={"from": old, "to": role, "source": "sso groups"},
        )
    audit_record(organization=organization, actor=user, action="sso.signed_in", target=employee)
    return user
