"""HR makes, sees and revokes API tokens from the pages; a token made there works on
the API for its scopes only, until it is revoked or expires."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.organizations.models import ApiToken

pytestmark = pytest.mark.django_db


def test_hr_makes_a_token_sees_it_once_uses_it_and_revokes_it(acme, client):
    client.force_login(acme.hr)
    url = reverse("api-tokens", args=[acme.org.slug])
    made = client.post(
        url, {"name": "Workday sync", "scopes": ["people:read"], "expires": "30"}, follow=True
    )
    page = made.content.decode()
    raw = re.search(r'value="(hs_[^"]+)"', page).group(1)
    assert "shown only this once" in page and "List the company&#x27;s people" in page
    assert raw not in client.get(url).content.decode()  # never again
    token = ApiToken.objects.get(organization=acme.org, name="Workday sync")
    assert token.scopes == ["people:read"] and token.expires_at is not None
    api = reverse("api-employees", args=[acme.org.slug])
    client.logout()
    assert client.get(api, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    jobs = reverse("api-jobs", args=[acme.org.slug])
    assert client.get(jobs, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 403
    client.force_login(acme.hr)
    listing = client.get(url).content.decode()
    assert "Workday sync" in listing and "ago" in listing  # last used
    client.post(url, {"action": "revoke", "token": token.pk})
    client.logout()
    assert client.get(api, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_a_token_needs_a_name_and_a_scope_and_only_hr_makes_one(acme, client):
    client.force_login(acme.hr)
    url = reverse("api-tokens", args=[acme.org.slug])
    page = client.post(url, {"name": "", "expires": "30"}).content.decode()
    assert "This field is required." in page
    assert not ApiToken.objects.filter(organization=acme.org).exists()
    client.force_login(acme.employee_user)
    assert client.get(url).status_code == 403


def test_operators_make_list_and_revoke_tokens_with_a_command(acme, client):
    import io

    from django.core.management import CommandError, call_command

    out, err = io.StringIO(), io.StringIO()
    call_command(
        "tokens", "create", "--company", "acme", "--as", "hr@acme.example", "--name", "Okta",
        "--scope", "scim:provision", "--days", "30", stdout=out, stderr=err,
    )  # fmt: skip
    raw = out.getvalue().strip()
    assert raw.startswith("hs_") and "printed once" in err.getvalue()
    scim = reverse("api-employees", args=[acme.org.slug])
    assert client.get(scim, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 403  # scope
    listing = io.StringIO()
    call_command("tokens", "list", "--company", "acme", stdout=listing)
    assert "Okta  [scim:provision]  expires" in listing.getvalue()
    call_command(
        "tokens", "revoke", "--company", "acme", "--as", "hr@acme.example", "--prefix", raw[:10],
        stdout=io.StringIO(),
    )  # fmt: skip
    assert ApiToken.objects.get(name="Okta").revoked_at is not None
    with pytest.raises(CommandError, match="does not allow|role"):
        call_command(
            "tokens", "create", "--company", "acme", "--as", "pat@acme.example", "--name", "X",
            "--scope", "audit:read", stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
