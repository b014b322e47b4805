"""Company single sign-on through a real OpenID Connect provider, in a real browser."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.organizations.models import EmployeeProfile, EmployeeStatus, IdentityProvider, Membership
from tests.apps.factories import company
from tests.e2e.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def acme_sso(oidc_provider, settings):
    settings.HEADSHOTS_LOCAL_SIGNIN = "admins"
    issuer, client_id = oidc_provider
    c = company("Acme", "acme.example")
    IdentityProvider.objects.create(
        organization=c.org,
        issuer=issuer,
        client_id=client_id,
        role_groups={"hr": ["HR-Admins"]},
    )
    return c


def sso_sign_in(page, live_server, email: str, login: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Your work e-mail address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("anything")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    consent = page.get_by_role("button", name=re.compile("Continue|Authorize", re.I))
    if (
        page.url.startswith("http://127.0.0.1")
        and consent.count()
        and live_server.url not in page.url
    ):
        consent.first.click()
    page.wait_for_load_state()


def test_a_person_signs_in_with_the_company_account_and_joins(acme_sso, browser_page, live_server):
    page = browser_page
    sso_sign_in(page, live_server, "ana@acme.example", "ana")
    page.wait_for_url(re.compile(rf"{re.escape(live_server.url)}/o/acme/me/$"))
    assert "Hello Ana García" in page.content()
    shot(page, "sso-employee-signed-in")
    ana = EmployeeProfile.objects.get(organization=acme_sso.org, email="ana@acme.example")
    assert ana.status == EmployeeStatus.ACTIVE and ana.user.username == "ana@acme.example"
    assert Membership.objects.get(organization=acme_sso.org, user=ana.user).role == "employee"


def test_the_groups_claim_gives_hr_its_role(acme_sso, browser_page, live_server):
    page = browser_page
    sso_sign_in(page, live_server, "hana@acme.example", "hana")
    page.wait_for_url(re.compile(r"/o/acme/hr/$"))
    membership = Membership.objects.get(
        organization=acme_sso.org, user__username="hana@acme.example"
    )
    assert membership.role == "hr"


def test_an_account_of_another_domain_is_refused(acme_sso, browser_page, live_server):
    page = browser_page
    sso_sign_in(
        page, live_server, "ana@acme.example", "mallory"
    )  # the provider vouches for mallory@globex
    assert "not an address of Acme" in page.content()
    assert not EmployeeProfile.objects.filter(email="mallory@globex.example").exists()


def test_an_unverified_address_is_refused(acme_sso, browser_page, live_server):
    sso_sign_in(browser_page, live_server, "uv@acme.example", "unverified")
    assert "no verified e-mail address" in browser_page.content()


def test_a_forged_callback_is_refused(acme_sso, client):
    answer = client.get(
        reverse("sso-callback", args=["acme"]), {"code": "forged", "state": "forged"}
    )
    assert answer.status_code == 400 and not answer.wsgi_request.user.is_authenticated
