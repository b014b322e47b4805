"""Text from outside that no database column takes: NUL characters, values of 5,000
characters, JSON nested 10,000 deep. Every one is refused (or, for a name the identity
provider vouches for, cut) at the edge with a clear answer: never a server error, never
a lost import. On PostgreSQL a NUL character reaching a query fails the whole statement,
so the suite's PostgreSQL run is where these matter most."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.organizations.models import EmployeeProfile
from apps.organizations.roster import roster_check, roster_import
from apps.organizations.sso import sso_sign_in
from tests.apps.test_scim import ENTERPRISE, PATCH, new_user, scim, users

NUL = "Ana\x00García"
LONG = "x" * 5000
SCIM_FIELDS = {
    "userName": lambda v: {"userName": v, "emails": []},
    "displayName": lambda v: {"displayName": v},
    "title": lambda v: {"title": v},
    "externalId": lambda v: {"externalId": v},
    "phone": lambda v: {"phoneNumbers": [{"value": v, "type": "work"}]},
    "department": lambda v: {ENTERPRISE: {"department": v}},
    "manager": lambda v: {ENTERPRISE: {"manager": {"value": v}}},
}


@pytest.mark.parametrize("value", [NUL, LONG], ids=["nul", "5000-chars"])
@pytest.mark.parametrize("field", sorted(SCIM_FIELDS))
def test_scim_refuses_bad_text_in_every_field_with_a_scim_error(acme, field, value):
    client = scim(acme)
    answer = client.post(users(acme), new_user(**SCIM_FIELDS[field](value)), format="json")
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert "\x00" not in body["detail"] and len(body["detail"]) < 500
    assert not EmployeeProfile.objects.filter(email="ana.garcia@acme.example").exists()


@pytest.mark.parametrize("value", [NUL, LONG], ids=["nul", "5000-chars"])
def test_scim_patch_and_filter_refuse_bad_text(acme, value):
    client = scim(acme)
    pk = acme.employee.pk
    for path in ("title", "displayName", "externalId", f"{ENTERPRISE}:department"):
        answer = client.patch(
            users(acme, f"/{pk}"),
            {"schemas": [PATCH], "Operations": [{"op": "replace", "path": path, "value": value}]},
            format="json",
        )
        assert answer.status_code == 400, (path, answer.content)
    found = client.get(users(acme), {"filter": f'userName eq "{value}"'})
    assert found.status_code == 400 and found.json()["schemas"] == [
        "urn:ietf:params:scim:api:messages:2.0:Error"
    ]
    acme.employee.refresh_from_db()
    assert acme.employee.title == "Engineer"


def test_json_nested_ten_thousand_deep_is_refused_by_the_api_and_scim(acme):
    deep = ("[" * 10_000 + "]" * 10_000).encode()
    client = scim(acme)
    for url in (users(acme), f"/api/v1/organizations/{acme.org.slug}/jobs/"):
        answer = client.post(url, deep, content_type="application/json")
        assert answer.status_code in {400, 403}, (url, answer.status_code)
        assert answer.status_code != 500
    api = APIClient()
    api.force_authenticate(acme.employee_user)
    answer = api.post(
        f"/api/v1/organizations/{acme.org.slug}/jobs/", deep, content_type="application/json"
    )
    assert answer.status_code == 400 and "nested too deeply" in answer.json()["detail"]


def test_a_roster_with_bad_rows_reports_them_and_imports_the_rest(acme):
    roster = (
        "name,email,title,department,phone,manager\n"
        "Good One,good@acme.example,Engineer,R&D,,\n"
        f"{NUL},nul@acme.example,,,,\n"
        f"Long Title,long@acme.example,{LONG},,,\n"
        f'"Two\nLines",lines@acme.example,,,,\n'
        f"Phone,phone@acme.example,,,{'9' * 100},\n"
        f"{'y' * 300},name@acme.example,,,,\n"
    ).encode()
    report = roster_check(organization=acme.org, content=roster)
    verdicts = {row.data.email: (row.action, "; ".join(row.problems)) for row in report.rows}
    assert verdicts["good@acme.example"][0] == "invite"
    assert "not text" in verdicts["nul@acme.example"][1]
    assert "longer than 200" in verdicts["long@acme.example"][1]
    assert "not text" in verdicts["lines@acme.example"][1]
    assert "longer than 40" in verdicts["phone@acme.example"][1]
    assert "longer than 200" in verdicts["name@acme.example"][1]
    counts = roster_import(organization=acme.org, actor=acme.hr, content=roster)
    assert counts["invited"] == 1 and counts["errors"] == 5
    assert EmployeeProfile.objects.filter(email="good@acme.example").exists()


@pytest.mark.parametrize(
    ("claimed", "expected"),
    [
        ("Ana " + "García " * 60, None),  # 420 characters: cut at a word, with an ellipsis
        ("Ana\x00 García\r\nX-Injected: yes", "Ana García X-Injected: yes"),
    ],
)
def test_a_sign_in_name_too_long_or_with_control_characters_still_signs_in(acme, claimed, expected):
    from apps.organizations.models import IdentityProvider

    provider = IdentityProvider.objects.create(organization=acme.org, issuer="https://idp.example")
    user = sso_sign_in(
        provider=provider,
        claims={"email": "ana@acme.example", "email_verified": True, "name": claimed},
    )
    person = EmployeeProfile.objects.get(organization=acme.org, user=user)
    assert len(person.full_name) <= 200 and "\x00" not in person.full_name
    if expected is None:
        assert person.full_name.startswith("Ana García") and person.full_name.endswith("…")
    else:
        assert person.full_name == expected


def test_an_address_too_long_for_a_username_is_refused_clearly(acme):
    from apps.core.errors import PermissionDenied
    from apps.organizations.models import IdentityProvider

    provider = IdentityProvider.objects.create(organization=acme.org, issuer="https://idp.example")
    with pytest.raises(PermissionDenied, match="cannot be used here"):
        sso_sign_in(
            provider=provider,
            claims={"email": "a" * 160 + "@acme.example", "email_verified": True, "name": "A"},
        )


@pytest.mark.parametrize(
    "where",
    [
        lambda c: reverse("audit", args=[c.org.slug]) + "?actor=a%00b",
        lambda c: reverse("hr-dashboard", args=[c.org.slug]) + "?state=%00",
        lambda c: f"/api/v1/organizations/{c.org.slug}/audit/?action=x%00",
        lambda c: f"/api/v1/organizations/{c.org.slug}/employees/?department=%00",
    ],
    ids=["audit-page", "people-page", "audit-api", "employees-api"],
)
def test_a_nul_in_a_query_string_is_refused(acme, client, where):
    client.force_login(acme.hr)
    answer = client.get(where(acme))
    assert answer.status_code == 400 and b"not text" in answer.content


def test_a_nul_in_a_form_field_is_refused(acme, client):
    client.force_login(acme.hr)
    answer = client.post(
        reverse("invitations", args=[acme.org.slug]),
        {"email": "ana@acme.example", "full_name": NUL},
    )
    assert answer.status_code == 400
    assert not EmployeeProfile.objects.filter(email="ana@acme.example").exists()


@pytest.mark.parametrize("value", [NUL, LONG], ids=["nul", "5000-chars"])
def test_the_apis_text_inputs_refuse_bad_text(finished, value):
    c, job = finished
    api = APIClient()
    api.force_authenticate(c.hr)
    base = f"/api/v1/organizations/{c.org.slug}"
    headshot = job.headshots.get(rank=1)
    answers = [
        api.post(f"{base}/headshots/{headshot.pk}/reject/", {"reason": value}, format="json"),
        api.post(
            f"{base}/webhooks/",
            {"url": f"https://{value}.example/", "events": ["job.finished"]},
            format="json",
        ),
        api.post(
            f"{base}/publications/", {"headshot": headshot.pk, "target": value}, format="json"
        ),
    ]
    employee = APIClient()
    employee.force_authenticate(c.employee_user)
    answers.append(employee.post(f"{base}/jobs/", {"preset": value}, format="json"))
    assert [a.status_code for a in answers] == [400, 400, 400, 400], [a.content for a in answers]
    headshot.refresh_from_db()
    assert headshot.status == "candidate"


def test_the_new_forms_refuse_what_is_not_text_without_a_server_error(finished, client):
    """Control characters (NUL is refused before any view) in the sign-in address, a
    department to publish, a preset to copy and a note for another round: a plain
    answer, never an error, and nothing unchecked reaches a query."""
    from django.urls import reverse

    c, _ = finished
    bad = "x\x07y"
    page = client.post(reverse("login"), {"email": f"pat{bad}@acme.example"}, follow=True)
    assert page.status_code == 200 and "Check the address" in page.content.decode()
    client.force_login(c.hr)
    publish = client.post(
        reverse("publishing", args=[c.org.slug]),
        {"action": "department", "department": bad},
        follow=True,
    )
    assert publish.status_code == 200 and "not text" in publish.content.decode()
    copied = client.post(reverse("presets", args=[c.org.slug]), {"preset": bad}, follow=True)
    assert copied.status_code == 200 and "No brand preset" in copied.content.decode()
    client.force_login(c.employee_user)
    another = client.post(
        reverse("generate", args=[c.org.slug]),
        {"preset": "corporate-executive", "change": "closer", "reason": bad},
    )
    assert another.status_code == 302
