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
    assert not form.is_valid() and set(form.errors) >= {"issuer", "client_id", "client_secret"}
    assert "HEADSHOTS_OIDC_SECRET__ACME" in str(form.errors["client_secret"])
    bad_roles = IdentityProviderForm(
        data={
            "organization": c.org.pk,
            "kind": "oidc",
            "issuer": "https://idp.acme.example",
            "client_id": "x",
            "client_secret": "s3cret",
            "groups_claim": "groups",
            "role_groups": '{"root": ["x"]}',
        }
    )
    assert not bad_roles.is_valid() and "role_groups" in bad_roles.errors


def test_the_client_secret_is_stored_encrypted_and_never_shown_back(db, monkeypatch):
    from apps.organizations.models import IdentityProvider
    from apps.organizations.tenant_secrets import tenant_secret

    c = company("Acme", "acme.example")
    data = {
        "organization": c.org.pk,
        "kind": "oidc",
        "enabled": "on",
        "issuer": "https://idp.acme.example",
        "client_id": "portal",
        "client_secret": "the-client-secret",
        "groups_claim": "groups",
        "role_groups": "{}",
        "jit": "on",
    }
    form = IdentityProviderForm(data=data)
    assert form.is_valid(), form.errors
    provider = form.save()
    assert "the-client-secret" not in provider.client_secret_sealed
    assert tenant_secret(kind="oidc", organization=c.org, sealed=provider.client_secret_sealed) == (
        "the-client-secret"
    )
    shown = IdentityProviderForm(instance=provider).as_p()
    assert "the-client-secret" not in shown and provider.client_secret_sealed not in shown
    # Saved again without typing it: the stored secret stays.
    again = IdentityProviderForm(data={**data, "client_secret": ""}, instance=provider)
    assert again.is_valid(), again.errors
    kept = again.save()
    assert kept.client_secret_sealed == provider.client_secret_sealed
    # The operator's variable for this company wins over the stored one.
    monkeypatch.setenv("HEADSHOTS_OIDC_SECRET__ACME", "from-the-operator")
    fresh = IdentityProvider.objects.get(pk=provider.pk)
    assert (
        tenant_secret(kind="oidc", organization=c.org, sealed=fresh.client_secret_sealed)
        == "from-the-operator"
    )


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
