"""Secrets of a company's integrations: the directory's bind password, the single sign-on
client secret, and those of later targets.

A company never says where a secret is read from: a setting that named an environment
variable would let any company's HR make the portal send the server's own secrets
(its signing key, the encryption keys, another company's password) to a server of their
choosing. Each secret has exactly two sources:

1. **The platform operator**, through an environment variable (or its ``_FILE`` form)
   in the company's own namespace: ``HEADSHOTS_<KIND>_SECRET__<SLUG>``, the company's
   slug in capitals with every other character as ``_`` (``acme-corp`` ->
   ``HEADSHOTS_LDAP_SECRET__ACME_CORP``). The portal derives the name; nobody types it.
2. **The company**, typing the secret into a write-only field: it is stored encrypted
   with the portal's keys (``apps.core.crypto``) and never shown back.

The operator's variable wins when both exist.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from apps.core.crypto import EncryptionError, decrypt, encrypt, is_encrypted
from apps.core.errors import ValidationFailed
from apps.organizations.models import Organization
from headshots_portal.env import ConfigurationError, env_str

logger = logging.getLogger(__name__)

# kind -> (the namespace of the operator's variables, what the secret is, in words)
KINDS = {
    "ldap": ("HEADSHOTS_LDAP_SECRET__", "directory password"),
    "oidc": ("HEADSHOTS_OIDC_SECRET__", "single sign-on client secret"),
    "graph": ("HEADSHOTS_GRAPH_SECRET__", "Microsoft Entra ID client secret or private key"),
    "google": ("HEADSHOTS_GOOGLE_SECRET__", "Google service account key"),
}
MAX_SECRET_CHARS = 16384  # a service account key, a certificate's private key


class SecretMissing(ValidationFailed):
    """No source holds the secret; the message says where to put it."""


@dataclass(frozen=True)
class SecretState:
    """What a settings page shows about a secret: never the secret itself."""

    source: str  # "operator", "stored" or ""
    variable: str  # the operator's variable for this company

    @property
    def is_set(self) -> bool:
        return bool(self.source)


def operator_variable(kind: str, slug: str) -> str:
    prefix, _ = KINDS[kind]
    return prefix + re.sub(r"[^A-Z0-9]", "_", slug.upper())


def _operator_value(kind: str, organization: Organization) -> str:
    variable = operator_variable(kind, organization.slug)
    twins = [
        other
        for other in Organization.objects.exclude(pk=organization.pk).values_list("slug", flat=True)
        if operator_variable(kind, other) == variable
    ]
    if twins:
        # acme-corp and acme_corp would read the same variable: neither may use it.
        logger.error("%s is the operator variable of several companies: %s", variable, twins)
        raise SecretMissing(
            f"The {KINDS[kind][1]} cannot come from the server's environment for this company "
            f"(another company's address reads the same variable); type it in here instead."
        )
    try:
        return env_str(variable, "")
    except ConfigurationError as exc:
        logger.error("%s", exc)
        raise SecretMissing(
            f"The platform's {KINDS[kind][1]} for this company cannot be read; ask the "
            "platform operator to check it."
        ) from exc


def seal(value: str) -> str:
    """The secret as stored: encrypted, as text. Empty stays empty."""
    if not value:
        return ""
    if len(value) > MAX_SECRET_CHARS or "\x00" in value:
        raise ValidationFailed("This secret is too long or holds characters a secret cannot.")
    return encrypt(value.encode()).decode("ascii")


def unseal(sealed: str) -> str:
    if not sealed:
        return ""
    data = sealed.encode("ascii")
    if not is_encrypted(data):  # never stored in clear; refuse rather than guess
        raise EncryptionError("A stored secret is not encrypted.")
    return decrypt(data).decode()


def secret_state(*, kind: str, organization: Organization, sealed: str) -> SecretState:
    variable = operator_variable(kind, organization.slug)
    try:
        from_operator = bool(_operator_value(kind, organization))
    except SecretMissing:
        from_operator = False
    source = "operator" if from_operator else ("stored" if sealed else "")
    return SecretState(source=source, variable=variable)


def tenant_secret(*, kind: str, organization: Organization, sealed: str) -> str:
    """The secret to use for this company's integration, from the operator's variable or
    the company's stored one; SecretMissing (saying where to set it) when neither has it."""
    value = _operator_value(kind, organization)
    if value:
        return value
    if sealed:
        return unseal(sealed)
    what = KINDS[kind][1]
    raise SecretMissing(
        f"No {what} is set for {organization.name}. Type it in the settings, or ask the "
        f"platform operator to set {operator_variable(kind, organization.slug)}."
    )


def identity_providers_rotate_encryption() -> dict[str, int]:
    """The single sign-on client secrets stored by the companies, re-encrypted."""
    from apps.core.crypto import rotate_text
    from apps.organizations.models import IdentityProvider

    secrets = 0
    for pk, sealed in IdentityProvider.objects.exclude(client_secret_sealed="").values_list(
        "pk", "client_secret_sealed"
    ):
        IdentityProvider.objects.filter(pk=pk).update(client_secret_sealed=rotate_text(sealed))
        secrets += 1
    return {"secrets": secrets}
