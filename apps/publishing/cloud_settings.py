"""HR's settings for the cloud directory targets: checked as the sync will use them before
anything is saved; the credential is typed once, stored encrypted, never shown again."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from apps.audit.services import audit_record
from apps.core.errors import ValidationFailed, checked_model
from apps.core.text import sentence
from apps.organizations.models import MANAGER_ROLES, Organization
from apps.organizations.selectors import require_role
from apps.organizations.tenant_secrets import seal
from apps.publishing.cloud_clients import TargetError, google_key
from apps.publishing.models import CloudDirectory, CloudKind

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# a tenant is named by its id or one of its domains (contoso.onmicrosoft.com)
TENANT = re.compile(
    r"^(?:[0-9a-fA-F-]{36}|[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9-]{1,63})+)$"
)
FIELDS = {
    CloudKind.GRAPH: ("enabled", "tenant_id", "client_id", "certificate", "match_by"),
    CloudKind.GOOGLE: ("enabled", "admin_email"),
}
LABELS = {
    "enabled": "Publish approved headshots here",
    "tenant_id": "Directory (tenant) ID",
    "client_id": "Application (client) ID",
    "certificate": "Certificate (only for a certificate credential)",
    "match_by": "People are found by their",
    "admin_email": "Administrator the service account acts as",
}


def _certificate_problem(certificate: str, credential: str) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        loaded = x509.load_pem_x509_certificate(certificate.encode())
    except ValueError:
        return "the certificate is not a PEM certificate (-----BEGIN CERTIFICATE-----)"
    if credential:
        try:
            key = serialization.load_pem_private_key(credential.encode(), password=None)
        except (ValueError, TypeError):
            return "the private key is not an unencrypted PEM private key"
        if key.public_key().public_numbers() != loaded.public_key().public_numbers():  # type: ignore[union-attr]
            return "the private key does not belong to the certificate"
    return ""


def _problems(directory: CloudDirectory, credential: str) -> list[str]:
    found = []
    if directory.kind == CloudKind.GRAPH:
        if not TENANT.match(directory.tenant_id or ""):
            found.append("the directory (tenant) ID is the GUID on the Entra ID overview page")
        if not GUID.match(directory.client_id or ""):
            found.append("the application (client) ID is the GUID on the app registration's page")
        is_key = "PRIVATE KEY" in credential
        if directory.certificate or is_key:
            if not directory.certificate:
                found.append("a private key needs the certificate registered with the application")
            else:
                problem = _certificate_problem(directory.certificate, credential if is_key else "")
                if problem:
                    found.append(problem)
    else:
        try:
            validate_email(directory.admin_email)
        except ValidationError:
            found.append(
                "the administrator is a work address of the domain, e.g. admin@example.com"
            )
        if credential:
            try:
                google_key(credential)
            except TargetError as exc:
                text = str(exc).rstrip(".")
                found.append(text[:1].lower() + text[1:])
    return found


@transaction.atomic
def cloud_directory_save(
    *,
    organization: Organization,
    actor: Any,
    kind: str,
    values: dict[str, Any],
    credential: str = "",
    forget_credential: bool = False,
) -> CloudDirectory:
    """Create or change a cloud target (HR's settings page). A typed ``credential``
    replaces the stored one; empty keeps it."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if kind not in FIELDS:
        raise ValidationFailed("Choose Microsoft Entra ID or Google Workspace.")
    unknown = sorted(set(values) - set(FIELDS[CloudKind(kind)]))
    if unknown:  # in particular, no setting says where a server or a secret is
        raise ValidationFailed("These settings do not exist: " + ", ".join(unknown) + ".")
    directory = CloudDirectory.objects.filter(organization=organization, kind=kind).first()
    if directory is None:
        directory = CloudDirectory(organization=organization, kind=kind)
    for name, value in values.items():
        setattr(directory, name, value.strip() if isinstance(value, str) else value)
    credential = credential.strip()
    problems = _problems(directory, credential)
    if problems:
        raise ValidationFailed(sentence("; ".join(problems)) + ".")
    if credential:
        directory.credential_sealed = seal(credential)
    elif forget_credential:
        directory.credential_sealed = ""
    checked_model(directory, LABELS, exclude=["organization"])
    directory.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="directory.settings_saved",
        target=directory,
        data={
            "target": kind,
            "credential": "changed" if credential else ("removed" if forget_credential else "kept"),
        },
    )
    return directory
