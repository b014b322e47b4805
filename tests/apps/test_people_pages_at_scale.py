"""HR's people pages for a large company: every state read in a few queries, the
dashboard and the approval queue a page at a time, the counts over everyone."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.generation.models import GenerationJob
from apps.organizations.models import EmployeeProfile
from apps.people.selectors import people_standing
from apps.people.standing import people_page_progress
from tests.apps.crowd import STATES, crowd

pytestmark = pytest.mark.django_db


def test_each_state_of_the_journey_is_read_from_its_rows(acme):
    crowd(acme, 2 * len(STATES))
    standing = people_standing(organization=acme.org)
    counts = Counter(s.state for s in standing)
    # two of each, and Acme's own Pat, who consented and has no photo yet
    assert counts == {state: 2 for state in STATES} | {"consented": 3}
    generating = next(s for s in standing if s.state == "generating")
    assert generating.detail == "generating, 40%"
    uploading = next(s for s in standing if s.state == "uploading")
    assert uploading.detail.startswith("3 of ")
    assert all(s.stuck for s in standing if s.state == "failed")
    # dates are read as seconds since 1970: the same moment, to well under a second
    waiting = next(s for s in standing if s.state == "awaiting_pick")
    finished = GenerationJob.objects.get(employee_id=waiting.employee_id).finished_at
    assert abs((waiting.since - finished).total_seconds()) < 0.01
    invited = next(
        s for s in standing if s.state == "invited" and s.employee_id != acme.employee.pk
    )
    created = EmployeeProfile.objects.get(pk=invited.employee_id).created_at
    assert abs((invited.since - created).total_seconds()) < 0.01
    # a person's page reads the same standing, with the profile
    one = people_page_progress(
        organization=acme.org, people=EmployeeProfile.objects.filter(pk=generating.employee_id)
    )
    assert [(p.employee.pk, p.state, p.detail) for p in one] == [
        (generating.employee_id, "generating", "generating, 40%")
    ]


def test_the_dashboard_shows_a_page_of_people_and_counts_everyone(acme, client):
    crowd(acme, 9 * 30)  # 271 people with Pat
    client.force_login(acme.hr)
    url = reverse("hr-dashboard", args=[acme.org.slug])
    client.get(url)  # works out where the people added in bulk stand
    with CaptureQueriesContext(connection) as first_page_queries:
        first = client.get(url)
    page = first.content.decode()
    assert "271 people by state" in page
    assert page.count('href="/o/acme/hr/people/') >= 100  # a page of 100 (and the stuck)
    assert "1 to 100 of 271" in page and "page=2" in page
    last = client.get(url, {"page": 3}).content.decode()
    assert "201 to 271 of 271" in last and "Next" not in last
    picked = client.get(url, {"state": "awaiting_approval"}).content.decode()
    assert 'aria-label="Pages"' not in picked  # 30 people: one page, no page links
    everyone = picked.split('id="people-h"')[1]
    assert everyone.count("Awaiting approval</span>") == 30
    crowd(acme, 9 * 30, prefix="more")
    client.get(url)
    with CaptureQueriesContext(connection) as second:
        client.get(url)
    assert len(second) == len(first_page_queries)


def test_the_approval_queue_shows_the_oldest_fifty_first(acme, client):
    crowd(acme, 9 * 60)  # 60 picked headshots
    client.force_login(acme.hr)
    url = reverse("approval-queue", args=[acme.org.slug])
    page = client.get(url).content.decode()
    assert "60 waiting, the oldest first: 1 to 50 here" in page
    assert page.count('name="action" value="approve"') == 50
    rest = client.get(url, {"page": 2}).content.decode()
    assert rest.count('name="action" value="approve"') == 10
