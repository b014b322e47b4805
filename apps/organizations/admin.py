"""The platform administrator's pages for companies and their single sign-on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from apps.organizations.models import IdentityProvider, Organization
from apps.organizations.tenant_secrets import (
    MAX_SECRET_CHARS,
    operator_variable,
    seal,
    secret_state,
)


class IdentityProviderForm(forms.ModelForm):
    issuer = forms.URLField(
        assume_scheme="https",
        required=False,
        max_length=300,
        help_text="The provider's issuer URL.",
    )
    # Write-only: stored encrypted, never shown back (apps.organizations.tenant_secrets).
    client_secret = forms.CharField(
        required=False,
        strip=False,
        max_length=MAX_SECRET_CHARS,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="OpenID Connect: stored encrypted and never shown again; leave empty to keep "
        "the current one. The operator's HEADSHOTS_OIDC_SECRET__<COMPANY> variable, when set, "
        "is used instead.",
    )

    class Meta:
        model = IdentityProvider
        fields = [
            "organization",
            "kind",
            "enabled",
            "issuer",
            "client_id",
            "client_secret",
            "saml_metadata",
            "saml_email_attribute",
            "saml_name_attribute",
            "groups_claim",
            "role_groups",
            "jit",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == IdentityProvider.Kind.OIDC:
            for name in ("issuer", "client_id"):
                if not data.get(name):
                    self.add_error(name, "OpenID Connect needs this.")
            organization = data.get("organization")
            if (
                organization is not None
                and not data.get("client_secret")
                and not secret_state(
                    kind="oidc",
                    organization=organization,
                    sealed=self.instance.client_secret_sealed,
                ).is_set
            ):
                self.add_error(
                    "client_secret",
                    "OpenID Connect needs the client secret: type it here, or set "
                    f"{operator_variable('oidc', organization.slug)} on the portal's servers.",
                )
        elif kind == IdentityProvider.Kind.SAML:
            metadata = data.get("saml_metadata") or ""
            problem = saml_metadata_problem(metadata)
            if problem:
                self.add_error("saml_metadata", problem)
        roles = data.get("role_groups") or {}
        if not isinstance(roles, dict) or any(
            role not in {"admin", "hr", "approver"} or not isinstance(groups, list)
            for role, groups in roles.items()
        ):
            self.add_error(
                "role_groups", 'A mapping like {"hr": ["HR-Admins"], "approver": ["Leads"]}.'
            )
        return data

    def save(self, commit: bool = True) -> IdentityProvider:
        provider = super().save(commit=False)
        if self.cleaned_data.get("client_secret"):
            provider.client_secret_sealed = seal(self.cleaned_data["client_secret"])
        if commit:
            provider.save()
        return provider


def saml_metadata_problem(metadata: str) -> str:
    """Why this is not an identity provider's metadata with a signing certificate, or ""."""
    from defusedxml import DefusedXmlException, ElementTree

    if not metadata.strip():
        return "Paste the identity provider's metadata (XML)."
    try:
        root = ElementTree.fromstring(metadata)
    except ElementTree.ParseError:
        return "This is not XML."
    except DefusedXmlException:
        return "The metadata declares entities or a DTD, which are refused."
    md = "{urn:oasis:names:tc:SAML:2.0:metadata}"
    ds = "{http://www.w3.org/2000/09/xmldsig#}"
    idp = root.find(f".//{md}IDPSSODescriptor")
    if idp is None:
        return "This metadata describes no identity provider (no IDPSSODescriptor)."
    if idp.find(f".//{ds}X509Certificate") is None:
        return "The metadata has no signing certificate: assertions could not be checked."
    if idp.find(f"{md}SingleSignOnService") is None:
        return "The metadata has no single sign-on address."
    return ""


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    form = IdentityProviderForm
    list_display = ("organization", "kind", "enabled", "issuer", "jit")
    list_filter = ("kind", "enabled")


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "retention_days", "leaver_retention_days")
    search_fields = ("name", "slug")
