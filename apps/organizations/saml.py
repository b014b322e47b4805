"""Company single sign-on with SAML 2.0 (pysaml2, signatures checked by xmlsec1).

The portal is the service provider: HTTP-Redirect AuthnRequests, HTTP-POST responses.
Assertions must be signed by the company's identity provider (from its metadata), be
meant for this portal (audience), be in date, and answer a request the portal made: the
request's id travels in a signed RelayState, because the identity provider's POST comes
from another site and carries no session cookie. An assertion is accepted once.
"""

from __future__ import annotations

import logging
import shutil
from typing import Any

from django.core import signing
from django.core.cache import cache
from django.urls import reverse

from apps.core.errors import PermissionDenied, ValidationFailed
from apps.core.mail import portal_url
from apps.organizations.models import IdentityProvider

logger = logging.getLogger(__name__)
RELAY_SALT = "headshots.saml.relay"
RELAY_MAX_AGE_S = 600
SLACK_S = 60  # clock difference allowed between the identity provider and the portal


def sp_urls(provider: IdentityProvider) -> dict[str, str]:
    slug = provider.organization.slug
    return {
        "entity_id": portal_url(reverse("saml-metadata", args=[slug])),
        "acs": portal_url(reverse("saml-acs", args=[slug])),
    }


def saml_client(provider: IdentityProvider) -> Any:
    from saml2 import BINDING_HTTP_POST
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    xmlsec = shutil.which("xmlsec1")
    if xmlsec is None:
        raise ValidationFailed(
            "SAML sign-in needs xmlsec1 on the portal's servers (Debian: xmlsec1)."
        )
    if not provider.saml_metadata.strip():
        raise ValidationFailed(
            "Single sign-on is not ready: the identity provider's metadata is missing."
        )
    urls = sp_urls(provider)
    config = SPConfig()
    config.load(
        {
            "entityid": urls["entity_id"],
            "xmlsec_binary": xmlsec,
            "metadata": {"inline": [provider.saml_metadata]},
            "accepted_time_diff": SLACK_S,
            # keep the attributes pysaml2 has no converter for (a groups list)
            "allow_unknown_attributes": True,
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(urls["acs"], BINDING_HTTP_POST)]},
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "allow_unsolicited": False,
                    "authn_requests_signed": False,
                    "name_id_format_allow_create": True,
                }
            },
        }
    )
    return Saml2Client(config=config)


def saml_login_url(provider: IdentityProvider, next_url: str) -> str:
    """Where to send the person: the identity provider, with the request and a signed
    relay carrying its id."""
    import secrets

    client = saml_client(provider)
    request_id = "id-" + secrets.token_hex(20)
    relay = signing.dumps(
        {"id": request_id, "next": next_url, "org": provider.organization_id}, salt=RELAY_SALT
    )
    sent_id, info = client.prepare_for_authenticate(relay_state=relay, message_id=request_id)
    if sent_id != request_id:
        raise ValidationFailed("The SAML request could not be prepared.")
    return str(dict(info["headers"])["Location"])


def saml_claims(
    provider: IdentityProvider, saml_response: str, relay_state: str
) -> tuple[dict[str, Any], str]:
    """The verified person (claims shaped like OpenID Connect's) and where they go next."""
    from saml2 import BINDING_HTTP_POST
    from saml2.response import StatusError
    from saml2.sigver import SignatureError
    from saml2.validate import ResponseLifetimeExceed, ToEarly

    try:
        relay = signing.loads(relay_state, salt=RELAY_SALT, max_age=RELAY_MAX_AGE_S)
    except signing.BadSignature as exc:
        raise PermissionDenied(
            "The sign-in took too long or did not start here. Start again."
        ) from exc
    if relay.get("org") != provider.organization_id:
        raise PermissionDenied("This sign-in was started for another company.")
    client = saml_client(provider)
    try:
        response = client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding={relay["id"]: relay.get("next", "/")}
        )
    except (ResponseLifetimeExceed, ToEarly) as exc:
        raise PermissionDenied(
            "The identity provider's answer is out of date. Sign in again."
        ) from exc
    except (SignatureError, StatusError) as exc:
        raise PermissionDenied("The identity provider's answer could not be verified.") from exc
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises many kinds on a bad document
        logger.warning("SAML response refused for %s: %s", provider.organization.slug, exc)
        raise PermissionDenied("The identity provider's answer could not be verified.") from exc
    if response is None or response.assertion is None:
        raise PermissionDenied("The identity provider's answer could not be verified.")
    assertion_id = response.assertion.id
    if not cache.add(f"saml-assertion:{provider.pk}:{assertion_id}", 1, 24 * 3600):
        raise PermissionDenied("This sign-in answer has already been used.")
    attributes = response.get_identity()
    email = _first(attributes.get(provider.saml_email_attribute)) or ""
    return (
        {
            "email": email,
            "email_verified": bool(email),
            "name": _first(attributes.get(provider.saml_name_attribute)) or "",
            provider.groups_claim: list(attributes.get(provider.groups_claim) or []),
        },
        str(relay.get("next") or "/"),
    )


def _first(values: Any) -> str | None:
    if isinstance(values, list) and values:
        return str(values[0])
    return None


def sp_metadata(provider: IdentityProvider) -> str:
    from saml2.metadata import entity_descriptor

    return str(entity_descriptor(saml_client(provider).config))
