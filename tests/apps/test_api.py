from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.generation.services import generation_job_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(ready):
    return generation_job_create(
        organization=ready.org,
        actor=ready.employee_user,
        employee=ready.employee,
        preset=ready.preset(),
    )


def get(user, org_slug, pk):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client.get(f"/api/v1/organizations/{org_slug}/jobs/{pk}/")


def test_person_and_hr_see_job_progress(ready, job):
    for user in (ready.employee_user, ready.hr):
        response = get(user, ready.org.slug, job.pk)
        assert response.status_code == 200
        assert response.json()["status"] == "queued" and response.json()["preset_version"] == 1


def test_other_people_get_the_same_answer_as_for_a_missing_job(ready, job, globex):
    missing = get(ready.hr, ready.org.slug, 999_999)
    assert missing.status_code == 404
    for user, slug in (
        (globex.hr, ready.org.slug),
        (globex.hr, globex.org.slug),
        (ready.approver, ready.org.slug),
    ):
        response = get(user, slug, job.pk)
        assert response.status_code == 404 and response.json() == missing.json()
    assert get(None, ready.org.slug, job.pk).status_code == 403


def test_schema_and_health(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/organizations/{org}/jobs/{id}/" in schema.content
