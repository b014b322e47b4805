"""Queries per API request: a fixed few for a job's status and gallery, and for every list
the same number whatever the head count (no query per row)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.generation.models import GenerationJob, HeadshotStatus
from apps.organizations.tokens import SCOPES, api_token_create
from tests.apps.crowd import crowd

pytestmark = pytest.mark.django_db

LISTS = (
    "employees/",
    "employees/?state=published",
    "jobs/",
    "headshots/?status=picked",
    "headshots/?status=approved",
    "publications/",
    "audit-events/",
    "audit-events/?action=consent.given",
)


def _queries(client, path: str, **headers: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    assert response.status_code == 200, response.content[:300]
    return len(captured), response.json()


def test_a_job_status_and_its_gallery_take_three_and_four_queries(acme, client):
    """The person's user, their membership with the company, the job (with its person and
    preset version), and for the gallery its candidates. The session comes from the cache,
    and the gallery's total is counted from its page when the page holds the end."""
    crowd(acme, 9)
    job = GenerationJob.objects.filter(organization=acme.org, status="succeeded").first()
    person = job.employee.user
    client.force_login(person)
    client.get("/healthz")  # the session is in the cache from the sign-in already
    base = f"/api/v1/organizations/{acme.org.slug}/jobs/{job.pk}/"
    status_queries, status = _queries(client, base)
    assert status["status"] == "succeeded" and status_queries == 3
    gallery_queries, gallery = _queries(client, base + "headshots/")
    assert gallery["count"] == 4 and len(gallery["results"]) == 4
    assert gallery_queries == 4
    # a page that does not hold the end of the list still says how many there are in all
    _, first_two = _queries(client, base + "headshots/?limit=2")
    assert first_two["count"] == 4 and first_two["next"] is not None
    _, past_the_end = _queries(client, base + "headshots/?offset=10")
    assert past_the_end["count"] == 4 and past_the_end["results"] == []


@pytest.mark.parametrize("path", LISTS)
def test_lists_take_as_many_queries_for_ninety_people_as_for_nine(acme, client, path):
    token = api_token_create(
        organization=acme.org, actor=acme.hr, name="lists", scopes=list(SCOPES)
    )[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    # pages of one: full pages both times, so both count the whole list
    url = f"/api/v1/organizations/{acme.org.slug}/{path}{'&' if '?' in path else '?'}limit=1"
    crowd(acme, 9, prefix="few")
    client.get(url, **auth)  # the token's first use is written down once
    few, answer = _queries(client, url, **auth)
    assert answer["count"] >= 1
    crowd(acme, 81, prefix="more")
    client.get(url, **auth)  # people added in bulk are worked out by the first read
    many, more = _queries(client, url, **auth)
    assert more["count"] > answer["count"]
    assert many == few, f"{path}: {few} queries for 9 people, {many} for 90"


def test_the_approval_queue_lists_picked_headshots_oldest_first(acme, client):
    crowd(acme, 27)
    client.force_login(acme.hr)
    _, queue = _queries(client, f"/api/v1/organizations/{acme.org.slug}/headshots/?status=picked")
    assert queue["count"] == 3
    assert {h["status"] for h in queue["results"]} == {HeadshotStatus.PICKED}
