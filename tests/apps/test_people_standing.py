"""Where each person stands is kept on their row, and every move of the journey keeps it:
a save, a bulk update, a deletion, a new consent text, people added in bulk. A move marks
the person; after each, the next read's stored standing equals the one worked out from
the rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from apps.generation.models import GenerationJob, Headshot, HeadshotStatus, JobStatus
from apps.generation.services import employee_jobs_stop, headshot_approve, headshot_pick
from apps.generation.services.jobs import job_transition
from apps.organizations.models import EmployeeProfile, EmployeeStatus
from apps.people.selectors import people_filtered, people_standing, people_state_counts
from apps.people.standing import people_restand, people_restand_stale
from apps.people.tasks import people_restand_task
from apps.photos.models import Photo
from apps.photos.services import consent_text_publish, consent_withdraw, photo_delete
from apps.publishing.models import Publication, PublicationStatus
from tests.apps.crowd import STATES, crowd

pytestmark = pytest.mark.django_db


def kept(org) -> dict[int, str]:
    """Read as the dashboard does (the people marked as moved are worked out), and assert
    the stored standing of every current person is the one their rows give; each
    person's state."""
    people_restand_stale(organization=org)
    stored = {
        pk: (state, since)
        for pk, state, since in EmployeeProfile.objects.filter(organization=org)
        .exclude(status=EmployeeStatus.LEFT)
        .values_list("pk", "journey_state", "journey_since")
    }
    worked_out = {s.employee_id: s for s in people_standing(organization=org)}
    assert stored.keys() == worked_out.keys()
    for pk, s in worked_out.items():
        state, since = stored[pk]
        assert state == s.state, (pk, state, s.state)
        assert abs((since - s.since).total_seconds()) < 0.01, (pk, since, s.since)
    return {pk: s.state for pk, s in worked_out.items()}


def one_in(states: dict[int, str], state: str) -> EmployeeProfile:
    return EmployeeProfile.objects.get(pk=next(pk for pk, s in states.items() if s == state))


def test_people_added_in_bulk_are_worked_out_by_the_first_read(acme):
    crowd(acme, 2 * len(STATES))
    assert set(
        EmployeeProfile.objects.filter(organization=acme.org)
        .exclude(pk=acme.employee.pk)
        .values_list("journey_state", flat=True)
    ) == {""}
    assert people_restand_stale(organization=acme.org) == 2 * len(STATES) + 1  # and Pat
    kept(acme.org)
    assert people_state_counts(organization=acme.org) == {s: 2 for s in STATES} | {"consented": 3}
    assert people_restand_stale(organization=acme.org) == 0  # nothing left to work out
    assert people_restand(organization=acme.org) == 0  # the hourly check: nothing changed


def test_every_move_of_the_journey_is_kept(acme, mailoutbox):
    crowd(acme, 3 * len(STATES))
    people_restand_stale(organization=acme.org)
    states = kept(acme.org)

    # a job finishes (a bulk compare-and-set): generating -> awaiting pick
    person = one_in(states, "generating")
    job = GenerationJob.objects.get(employee=person)
    job_transition(
        job_id=job.pk,
        source=JobStatus.RUNNING,
        target=JobStatus.SUCCEEDED,
        finished_at=timezone.now(),
    )
    person.refresh_from_db()
    assert person.journey_state == ""  # marked: the next read works them out
    Headshot.objects.create(
        organization=acme.org,
        job=job,
        employee=person,
        key="c1",
        image="x.jpg",
        seed=1,
        backend="studio",
        accepted=True,
        rank=1,
    )
    states = kept(acme.org)
    assert states[person.pk] == "awaiting_pick"

    # the person picks (a save): -> awaiting approval; an approver approves: -> approved
    candidate = Headshot.objects.get(job=job, key="c1")
    headshot_pick(organization=acme.org, actor=person.user, headshot=candidate)
    assert kept(acme.org)[person.pk] == "awaiting_approval"
    candidate.refresh_from_db()
    headshot_approve(organization=acme.org, actor=acme.approver, headshot=candidate)
    assert kept(acme.org)[person.pk] == "approved"

    # a directory publishes it (a bulk update of the publication): -> published
    approved = one_in(states, "approved")
    publication = Publication.objects.create(
        organization=acme.org,
        employee=approved,
        headshot=Headshot.objects.get(employee=approved, status=HeadshotStatus.APPROVED),
        target="ldap",
    )
    assert kept(acme.org)[approved.pk] == "approved"
    Publication.objects.filter(pk=publication.pk).update(
        status=PublicationStatus.SUCCEEDED, published_at=timezone.now()
    )
    assert kept(acme.org)[approved.pk] == "published"

    # a running job is stopped (bulk): -> back to their photos
    stopped = one_in(states, "generating")
    employee_jobs_stop(organization=acme.org, employee=stopped)
    assert kept(acme.org)[stopped.pk] == "uploading"

    # a selfie deleted (an instance's deletion), the last one: -> consented
    uploading = one_in(states, "uploading")
    for photo in Photo.objects.filter(employee=uploading):
        photo_delete(organization=acme.org, employee=uploading, actor=uploading.user, photo=photo)
    assert kept(acme.org)[uploading.pk] == "consented"

    # consent withdrawn: -> asked to consent again
    published = one_in(states, "published")
    consent_withdraw(organization=acme.org, employee=published, actor=published.user)
    assert kept(acme.org)[published.pk] == "invited"

    # a new consent text sends everyone back to consent
    consent_text_publish(organization=acme.org, actor=acme.hr, body="We keep your selfies. " * 12)
    assert set(kept(acme.org).values()) == {"invited"}


def test_what_no_row_says_is_found_by_the_reads_and_the_hourly_check(acme, client):
    crowd(acme, len(STATES))
    people_restand_stale(organization=acme.org)
    waiting = one_in(kept(acme.org), "awaiting_pick")
    # a change made outside the portal's code (a database console): the hourly check finds it
    EmployeeProfile.objects.filter(pk=waiting.pk).update(journey_state="failed")
    people_restand_task()
    assert kept(acme.org)[waiting.pk] == "awaiting_pick"
    # the rows a page shows are worked out afresh, and put right if they had drifted
    EmployeeProfile.objects.filter(pk=waiting.pk).update(
        journey_since=timezone.now() - timedelta(days=400)
    )
    client.force_login(acme.hr)
    page = client.get(reverse("hr-dashboard", args=[acme.org.slug])).content.decode()
    assert "Awaiting pick" in page
    kept(acme.org)
    # the standard consent text's version changed by the operator: the next read finds it
    cache.clear()
    with override_settings(HEADSHOTS={**settings.HEADSHOTS, "CONSENT_TEXT_VERSION": "v9"}):
        people_restand_stale(organization=acme.org)
        assert set(kept(acme.org).values()) == {"invited"}
    people_restand(organization=acme.org)  # and back


def test_the_lists_filter_by_the_stored_standing(acme):
    crowd(acme, 2 * len(STATES))
    people_restand_stale(organization=acme.org)
    failed = people_filtered(organization=acme.org, state="failed")
    assert failed.count() == 2
    stuck = people_filtered(organization=acme.org, stuck=True)
    assert {p.journey_state for p in stuck} >= {"failed"}
    by_department = people_filtered(organization=acme.org, department="Department 3")
    assert by_department.count() == 2 and {p.department for p in by_department} == {"Department 3"}
    # a person who left is in no list
    leaver = failed.first()
    EmployeeProfile.objects.filter(pk=leaver.pk).update(status=EmployeeStatus.LEFT)
    assert people_filtered(organization=acme.org, state="failed").count() == 1
    assert people_state_counts(organization=acme.org)["failed"] == 1
