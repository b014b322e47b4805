"""The REST API: every endpoint with its refusals (wrong company, wrong role, wrong token
scope, bad input), token authentication, and the schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.generation.models import HeadshotStatus
from apps.generation.services import generation_job_create, headshot_pick
from apps.organizations.models import Membership, Role
from apps.organizations.tokens import SCOPES, api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def api(user=None, token: str | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def url(org, path: str) -> str:
    return f"/api/v1/organizations/{org.slug}/{path}"


@pytest.fixture
def job(ready):
    return generation_job_create(
        organization=ready.org,
        actor=ready.employee_user,
        employee=ready.employee,
        preset=ready.preset(),
    )


def test_person_and_hr_see_job_progress(ready, job):
    for user in (ready.employee_user, ready.hr):
        response = api(user).get(url(ready.org, f"jobs/{job.pk}/"))
        assert response.status_code == 200
        assert response.json()["status"] == "queued" and response.json()["preset_version"] == 1


def test_other_people_get_the_same_answer_as_for_a_missing_job(ready, job, globex):
    missing = api(ready.hr).get(url(ready.org, "jobs/999999/"))
    assert missing.status_code == 404
    for user, org in ((globex.hr, ready.org), (globex.hr, globex.org), (ready.approver, ready.org)):
        response = api(user).get(url(org, f"jobs/{job.pk}/"))
        assert response.status_code == 404 and response.json() == missing.json()
    anonymous = api().get(url(ready.org, f"jobs/{job.pk}/"))
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")


def test_the_whole_flow_through_the_api(ready, run_jobs):
    c = ready
    person, hr = api(c.employee_user), api(c.hr)
    started = person.post(
        url(c.org, "jobs/"),
        {"employee": c.employee.pk, "preset": "corporate-executive"},
        format="json",
    )
    assert started.status_code == 201, started.content
    again = person.post(
        url(c.org, "jobs/"),
        {"employee": c.employee.pk, "preset": "corporate-executive"},
        format="json",
    )
    assert again.status_code == 409 and "already queued" in again.json()["detail"]
    run_jobs()
    job_id = started.json()["id"]
    assert person.get(url(c.org, f"jobs/{job_id}/")).json()["status"] == "succeeded"
    gallery = person.get(url(c.org, f"jobs/{job_id}/headshots/")).json()
    assert gallery["count"] >= 1 and gallery["results"][0]["rank"] == 1
    best = gallery["results"][0]["id"]
    image = person.get(url(c.org, f"headshots/{best}/image/"))
    assert image.status_code == 200 and image["Content-Type"] in {"image/png", "image/jpeg"}
    assert (
        hr.post(url(c.org, f"headshots/{best}/pick/")).status_code == 404
    )  # only the person picks
    assert person.post(url(c.org, f"headshots/{best}/pick/")).json()["status"] == "picked"
    queue = api(c.approver).get(url(c.org, "headshots/"), {"status": "picked"}).json()
    assert [h["id"] for h in queue["results"]] == [best]
    assert person.post(url(c.org, f"headshots/{best}/approve/")).status_code == 403
    approved = api(c.approver).post(url(c.org, f"headshots/{best}/approve/"))
    assert approved.json()["status"] == HeadshotStatus.APPROVED
    published = hr.post(
        url(c.org, "publications/"), {"headshot": best, "target": "business_card"}, format="json"
    )
    assert published.status_code == 201, published.content
    bad_target = hr.post(
        url(c.org, "publications/"), {"headshot": best, "target": "fax"}, format="json"
    )
    assert bad_target.status_code == 400
    people = hr.get(url(c.org, "employees/"), {"state": "approved"}).json()
    assert [p["employee"]["email"] for p in people["results"]] == [c.employee.email]
    events = hr.get(url(c.org, "audit-events/"), {"action": "headshot.approved"}).json()
    assert events["count"] == 1 and len(events["results"][0]["hash"]) == 64
    assert hr.get(url(c.org, "audit-events/"), {"since": "yesterday"}).status_code == 400


def test_rejection_needs_a_reason(finished):
    c, job = finished
    best = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    approver = api(c.approver)
    assert (
        approver.post(url(c.org, f"headshots/{best.pk}/reject/"), {}, format="json").status_code
        == 400
    )
    done = approver.post(
        url(c.org, f"headshots/{best.pk}/reject/"), {"reason": "Blurry"}, format="json"
    )
    assert done.json()["status"] == "rejected" and done.json()["rejection_reason"] == "Blurry"


def test_selfies_upload_through_the_api(acme, selfies):
    person = api(acme.employee_user)
    sent = person.post(
        url(acme.org, "me/photos/"), {"photo": _file(selfies["selfie-01.png"])}, format="multipart"
    )
    assert sent.status_code == 201 and sent.json()["status"] == "pending"
    assert (
        person.post(
            url(acme.org, "me/photos/"),
            {"photo": _file(selfies["selfie-01.png"])},
            format="multipart",
        ).status_code
        == 200
    )
    refused = person.post(
        url(acme.org, "me/photos/"), {"photo": _file(b"GIF89a not really")}, format="multipart"
    )
    assert refused.status_code == 400 and refused.json()["detail"]
    assert person.get(url(acme.org, "me/photos/")).json()["count"] == 1
    assert (
        api(acme.hr)
        .post(
            url(acme.org, "me/photos/"),
            {"photo": _file(selfies["selfie-01.png"])},
            format="multipart",
        )
        .status_code
        == 404
    )  # HR has no profile


# -- tokens ----------------------------------------------------------------------------------------
def test_a_token_acts_inside_its_company_and_scopes_only(finished, globex):
    c, job = finished
    token_row, token = api_token_create(
        organization=c.org, actor=c.hr, name="HRIS", scopes=["jobs:read", "people:read"]
    )
    assert (
        token.startswith("hs_")
        and token_row.token_hash != token
        and token not in str(token_row.__dict__)
    )
    client = api(token=token)
    assert client.get(url(c.org, f"jobs/{job.pk}/")).status_code == 200
    assert client.get(url(c.org, "employees/")).status_code == 200
    denied = client.post(
        url(c.org, "jobs/"),
        {"employee": c.employee.pk, "preset": "corporate-executive"},
        format="json",
    )
    assert denied.status_code == 403 and "jobs:write" in denied.json()["detail"]
    assert client.get(url(c.org, "audit-events/")).status_code == 403
    assert client.get(url(c.org, "me/photos/")).status_code == 403  # people only, never tokens
    assert client.get(url(globex.org, "employees/")).status_code == 404  # another company
    api_token_revoke(organization=c.org, actor=c.hr, token=token_row)
    assert client.get(url(c.org, f"jobs/{job.pk}/")).status_code == 401
    assert api(token="hs_made-up").get(url(c.org, "employees/")).status_code == 401


def test_an_expired_token_or_a_demoted_maker_stops_working(acme):
    _, expired = api_token_create(
        organization=acme.org,
        actor=acme.hr,
        name="old",
        scopes=["people:read"],
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert api(token=expired).get(url(acme.org, "employees/")).status_code == 401
    _, token = api_token_create(
        organization=acme.org, actor=acme.hr, name="HRIS", scopes=["people:read"]
    )
    assert api(token=token).get(url(acme.org, "employees/")).status_code == 200
    Membership.objects.filter(user=acme.hr).update(role=Role.EMPLOYEE)
    assert api(token=token).get(url(acme.org, "employees/")).status_code == 403
    Membership.objects.filter(user=acme.hr).delete()
    assert api(token=token).get(url(acme.org, "employees/")).status_code == 404


def test_tokens_are_made_by_hr_with_known_scopes(acme):
    from apps.core.errors import PermissionDenied, ValidationFailed

    with pytest.raises(PermissionDenied):
        api_token_create(
            organization=acme.org, actor=acme.employee_user, name="x", scopes=["jobs:read"]
        )
    with pytest.raises(ValidationFailed):
        api_token_create(organization=acme.org, actor=acme.hr, name="x", scopes=["root"])
    assert set(SCOPES) >= {"jobs:read", "jobs:write", "headshots:approve", "webhooks:manage"}


def test_webhooks_are_managed_and_logged_through_the_api(acme, settings):
    settings.HEADSHOTS_WEBHOOK_ALLOW_PRIVATE = True
    hr = api(acme.hr)
    made = hr.post(
        url(acme.org, "webhooks/"),
        {"url": "http://127.0.0.1:9/hooks", "events": ["job.finished"]},
        format="json",
    )
    assert made.status_code == 201 and made.json()["secret"]
    listed = hr.get(url(acme.org, "webhooks/")).json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]
    assert (
        hr.post(
            url(acme.org, "webhooks/"),
            {"url": "http://127.0.0.1:9/", "events": ["nope"]},
            format="json",
        ).status_code
        == 400
    )
    deliveries = hr.get(url(acme.org, f"webhooks/{made.json()['id']}/deliveries/"))
    assert deliveries.status_code == 200 and deliveries.json()["count"] == 0
    assert api(acme.employee_user).get(url(acme.org, "webhooks/")).status_code == 403


# -- the matrix --------------------------------------------------------------------------------------
ENDPOINTS = [
    ("get", "employees/"),
    ("get", "employees/{employee}/"),
    ("get", "me/photos/"),
    ("post", "me/photos/"),
    ("get", "jobs/"),
    ("post", "jobs/"),
    ("get", "jobs/{job}/"),
    ("post", "jobs/{job}/cancel/"),
    ("get", "jobs/{job}/headshots/"),
    ("get", "headshots/"),
    ("get", "headshots/{headshot}/"),
    ("get", "headshots/{headshot}/image/"),
    ("post", "headshots/{headshot}/pick/"),
    ("post", "headshots/{headshot}/approve/"),
    ("post", "headshots/{headshot}/reject/"),
    ("get", "publications/"),
    ("post", "publications/"),
    ("get", "audit-events/"),
    ("get", "webhooks/"),
    ("post", "webhooks/"),
    ("get", "webhooks/{webhook}/deliveries/"),
]


def test_every_endpoint_answers_404_to_every_role_of_another_company(finished, globex, settings):
    """Company B's people and tokens, on company A's addresses and objects: the same 404 as
    for an address that does not exist, and nothing changes."""
    from apps.webhooks.services import webhook_endpoint_create

    settings.HEADSHOTS_WEBHOOK_ALLOW_PRIVATE = True
    c, job = finished
    endpoint, _ = webhook_endpoint_create(
        organization=c.org, actor=c.hr, url="http://127.0.0.1:9/", events=["job.finished"]
    )
    ids = {
        "employee": c.employee.pk,
        "job": job.pk,
        "headshot": job.headshots.first().pk,
        "webhook": endpoint.pk,
    }
    _, token = api_token_create(
        organization=globex.org, actor=globex.hr, name="B", scopes=sorted(SCOPES)
    )
    outsiders = [api(globex.hr), api(globex.approver), api(globex.employee_user), api(token=token)]
    before = _state(c)
    for method, path in ENDPOINTS:
        for client in outsiders:
            answer = getattr(client, method)(url(c.org, path.format(**ids)), {}, format="json")
            assert answer.status_code == 404, (method, path, answer.status_code)
            assert answer.json() == {"detail": "Not found.", "code": "not_found"}
    assert _state(c) == before


def test_the_matrix_lists_every_api_endpoint():
    from headshots_portal.api_urls import urlpatterns

    routes = {str(p.pattern).replace("<id:pk>", "{}") for p in urlpatterns}
    listed = {
        path.split("{")[0] + ("{}" + path.split("}", 1)[1] if "{" in path else "")
        for _, path in ENDPOINTS
    }
    assert routes == listed


def _state(c) -> tuple:
    from apps.audit.models import AuditEvent
    from apps.generation.models import GenerationJob, Headshot

    return (
        AuditEvent.objects.count(),
        list(GenerationJob.objects.values_list("pk", "status")),
        list(Headshot.objects.values_list("pk", "status")),
    )


def test_schema_and_health(client):
    assert client.get("/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "cache": "in-process",
        "broker": "in-process",
    }
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/organizations/{org}/jobs/{id}/" in schema.content
    assert b"companyToken" in schema.content


def test_schema_generates_without_a_warning():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def _file(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", data)


def test_an_id_in_other_digits_than_0_to_9_is_a_bad_request_not_an_error(acme):
    """ "²" and "٣" count as digits to Python's isdigit; int() refuses the first and reads
    the second as 3. Ids take the plain digits only."""
    from apps.core.text import plain_number

    for value in ("²", "٣", "1²", "-1", "0x1", " 1"):
        response = api(acme.hr).get(url(acme.org, "jobs/"), {"employee": value})
        assert response.status_code == 400, value
        assert "must be an id" in response.json()["detail"]
        assert not plain_number(value)
    assert api(acme.hr).get(url(acme.org, "jobs/"), {"employee": "7"}).status_code == 200
    assert plain_number("12") and not plain_number("") and not plain_number(None)
