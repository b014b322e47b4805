"""API tokens per company, with scopes: creation (the token is shown once), revocation,
and the DRF authentication that reads ``Authorization: Bearer hs_...``."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from apps.audit.services import audit_record
from apps.core.errors import ValidationFailed
from apps.organizations.models import MANAGER_ROLES, ApiToken, Organization
from apps.organizations.selectors import require_role

PREFIX = "hs_"
SCOPES = {
    "people:read": "List the company's people and their state.",
    "jobs:read": "See generation jobs and their candidates.",
    "jobs:write": "Start and cancel generation jobs.",
    "headshots:approve": "Approve or reject picked headshots.",
    "publications:write": "Request and list publications.",
    "audit:read": "Read the audit log.",
    "webhooks:manage": "Manage webhook endpoints and read their delivery log.",
    "scim:provision": "Create, change and deprovision people (the identity provider's SCIM client).",
}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_create(
    *,
    organization: Organization,
    actor: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """(token row, the token itself): the token is shown this once and never again."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValidationFailed(f"Choose scopes among {', '.join(sorted(SCOPES))}.")
    if not name.strip():
        raise ValidationFailed("Give the token a name that says which integration uses it.")
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        organization=organization,
        name=name.strip()[:100],
        prefix=raw[:10],
        token_hash=_digest(raw),
        scopes=sorted(set(scopes)),
        created_by=actor,
        expires_at=expires_at,
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="api_token.created",
        target=token,
        data={"name": token.name, "scopes": token.scopes},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, organization: Organization, actor: User, token: ApiToken) -> None:
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if token.organization_id != organization.pk:
        raise ValidationFailed("Not found.")
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(organization=organization, actor=actor, action="api_token.revoked", target=token)


class CompanyTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer hs_...``: the request runs as the token's creator, limited to
    the token's company and scopes (checked by the API views)."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as: Authorization: Bearer <token>."
            )
        raw = header[1].decode("ascii", errors="replace")
        token = (
            ApiToken.objects.select_related("created_by", "organization")
            .filter(token_hash=_digest(raw), revoked_at__isnull=True)
            .first()
        )
        now = timezone.now()
        if token is None or (token.expires_at is not None and token.expires_at <= now):
            raise exceptions.AuthenticationFailed("This token is unknown, revoked or expired.")
        if not token.created_by.is_active:
            raise exceptions.AuthenticationFailed(
                "The person who made this token is no longer active."
            )
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.created_by, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


def token_scopes(request: Any) -> set[str] | None:
    """The scopes of the request's token, or None for a signed-in person (their role decides)."""
    auth = getattr(request, "auth", None)
    return set(auth.scopes) if isinstance(auth, ApiToken) else None


class CompanyTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[misc]  # untyped base
    """The token in the OpenAPI schema."""

    target_class = "apps.organizations.tokens.CompanyTokenAuthentication"
    name = "companyToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A company API token (hs_...), made by HR with the scopes it needs.",
        }
