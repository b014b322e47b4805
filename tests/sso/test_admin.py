"""The platform administrator configures a company's identity provider in the admin."""

from __future__ import annotations

from apps.organizations.admin import IdentityProviderForm, saml_metadata_problem
from tests.apps.factories import company


def test_an_oidc_provider_needs_its_issuer_and_client(db):
    c = company("Acme", "acme.example")
    form = IdentityProviderForm(
        data={
            "organization": c.org.pk,
            "kind": "oidc",
            "enabled": "on",
            "groups_claim": "groups",
            "role_groups": '{"hr": ["HR-Admins"]}',
            "jit": "on",
        }
    )
    assert not form.is_valid() and set(form.errors) >= {"issuer", "client_id", "client_secret_env"}
    bad_roles = IdentityProviderForm(
        data={
            "organization": c.org.pk,
            "kind": "oidc",
            "issuer": "https://idp.acme.example",
            "client_id": "x",
            "client_secret_env": "ACME_SECRET",
            "groups_claim": "groups",
            "role_groups": '{"root": ["x"]}',
        }
    )
    assert not bad_roles.is_valid() and "role_groups" in bad_roles.errors


def test_saml_metadata_must_name_a_signing_certificate():
    assert saml_metadata_problem("") and saml_metadata_problem("<not xml")
    no_cert = (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:SingleSignOnService Binding="b" Location="https://idp/sso"/></md:IDPSSODescriptor>'
        "</md:EntityDescriptor>"
    )
    assert "signing certificate" in saml_metadata_problem(no_cert)
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    assert saml_metadata_problem(bomb)  # entities refused, never expanded
