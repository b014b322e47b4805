from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from apps.audit.models import AuditEvent
from apps.core.errors import NotFound, PermissionDenied, StateConflict, ValidationFailed
from apps.generation.models import GenerationJob, Headshot, HeadshotStatus, JobStatus
from apps.generation.services import (
    generation_job_cancel,
    generation_job_create,
    generation_job_run,
    headshot_approve,
    headshot_pick,
    headshot_reject,
)
from tests.apps.factories import company, start_job, upload

pytestmark = pytest.mark.django_db


def test_no_generation_before_enough_usable_photos(acme, selfies, run_jobs):
    for name in ["selfie-01.png", "selfie-08-cat.png", "selfie-09-group.jpg"]:
        upload(acme, selfies[name])
    run_jobs()
    with pytest.raises(StateConflict, match="1 usable photo") as caught:
        start_job(acme)
    assert caught.value.extra == {"usable": 1, "needed": 3}
    assert not GenerationJob.objects.exists()


def test_no_generation_without_current_consent(ready):
    ready.employee.consents.update(withdrawn_at="2026-01-01T00:00:00Z")
    with pytest.raises(StateConflict, match="consent"):
        start_job(ready)


def test_one_active_job_per_person(ready):
    start_job(ready)
    with pytest.raises(StateConflict, match="already queued"):
        start_job(ready)


def test_job_runs_to_ranked_candidates(finished):
    c, job = finished
    assert job.progress == 100 and job.stage == "done" and job.backend == "studio-looks-v2"
    assert len(job.seeds) == 4 and job.timings["total_s"] > 0
    headshots = list(job.headshots.order_by("rank"))
    assert len(headshots) == 4
    accepted = [h for h in headshots if h.accepted]
    assert [h.rank for h in accepted] == list(range(1, len(accepted) + 1))
    for h in accepted:
        assert h.scores["identity"] >= 0.93 and default_storage.exists(h.image.name)
    identity = c.employee.identity
    assert identity.consistent
    best = job.headshots.get(rank=1)
    assert "dark tailored suit" in best.prompt and "light skin tone" in best.prompt
    assert "different skin tone" in best.negative_prompt
    # What later stages must keep, summarised over the agreeing photos.
    assert identity.attributes["skin_tone"] == "light" and identity.attributes["photos"] == 4
    assert identity.attributes["glasses"] is False and identity.attributes["hair_color"] == "brown"
    assert AuditEvent.objects.filter(action="job.succeeded", target_id=str(job.pk)).exists()


def test_message_delivered_twice_gives_one_set_of_candidates(finished):
    c, job = finished
    names = set(job.headshots.values_list("image", flat=True))
    generation_job_run(job_id=job.pk)  # a redelivered message
    assert set(Headshot.objects.filter(job=job).values_list("image", flat=True)) == names


def test_partial_outputs_of_a_dead_attempt_are_replaced(ready, run_jobs):
    job = start_job(ready)
    # An earlier attempt died after writing a candidate, and the job was put back.
    Headshot.objects.create(
        organization=ready.org,
        job=job,
        employee=ready.employee,
        key="c01",
        image="stale.jpg",
        seed=1,
        backend="x",
    )
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert not job.headshots.filter(image="stale.jpg").exists() and job.headshots.count() == 4


def test_cancelled_job_keeps_no_results(ready, run_jobs):
    job = start_job(ready)
    generation_job_cancel(organization=ready.org, actor=ready.employee_user, job=job)
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.headshots.count() == 0
    with pytest.raises(StateConflict, match="cancelled"):
        generation_job_cancel(organization=ready.org, actor=ready.employee_user, job=job)


def test_job_fails_with_reason_when_photos_disagree(acme, selfies, run_jobs):
    for name in ["selfie-01.png", "selfie-02-mirror.jpg", "selfie-10-someone-else.jpg"]:
        upload(acme, selfies[name])
    run_jobs()
    job = start_job(acme)
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "may show someone else" in job.error


def test_pick_rules(finished, globex):
    c, job = finished
    best = job.headshots.get(rank=1)
    with pytest.raises(PermissionDenied):
        headshot_pick(organization=c.org, actor=c.hr, headshot=best)
    with pytest.raises(NotFound):
        headshot_pick(organization=c.org, actor=globex.employee_user, headshot=best)
    picked = headshot_pick(organization=c.org, actor=c.employee_user, headshot=best)
    assert picked.status == HeadshotStatus.PICKED and picked.picked_at
    assert (
        headshot_pick(organization=c.org, actor=c.employee_user, headshot=best).status
        == HeadshotStatus.PICKED
    )


def test_rejected_candidate_cannot_be_picked(finished):
    c, job = finished
    weak = job.headshots.get(rank=2)
    Headshot.objects.filter(pk=weak.pk).update(accepted=False, reason="identity similarity too low")
    with pytest.raises(StateConflict, match="did not pass"):
        headshot_pick(organization=c.org, actor=c.employee_user, headshot=weak)


def test_no_approval_of_a_headshot_that_was_not_picked(finished):
    c, job = finished
    with pytest.raises(StateConflict, match="only a headshot the person picked"):
        headshot_approve(organization=c.org, actor=c.hr, headshot=job.headshots.get(rank=1))


def test_approval_needs_an_approver_role_and_is_audited(finished):
    c, job = finished
    best = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    with pytest.raises(PermissionDenied):
        headshot_approve(organization=c.org, actor=c.employee_user, headshot=best)
    approved = headshot_approve(organization=c.org, actor=c.approver, headshot=best)
    assert approved.status == HeadshotStatus.APPROVED and approved.decided_by == c.approver
    event = AuditEvent.objects.get(action="headshot.approved")
    assert event.actor == c.approver and event.target_id == str(best.pk)


def test_rejection_needs_a_reason_and_is_final(finished):
    c, job = finished
    best = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    with pytest.raises(ValidationFailed, match="Say why"):
        headshot_reject(organization=c.org, actor=c.hr, headshot=best, reason="  ")
    rejected = headshot_reject(
        organization=c.org, actor=c.hr, headshot=best, reason="Collar is cut off"
    )
    assert rejected.rejection_reason == "Collar is cut off"
    with pytest.raises(StateConflict):
        headshot_approve(organization=c.org, actor=c.hr, headshot=best)
    assert AuditEvent.objects.filter(
        action="headshot.rejected", data__reason="Collar is cut off"
    ).exists()


def test_nothing_across_companies(finished, globex):
    c, job = finished
    best = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    with pytest.raises(NotFound):
        headshot_approve(organization=globex.org, actor=globex.hr, headshot=best)
    with pytest.raises(NotFound):
        headshot_approve(organization=c.org, actor=globex.hr, headshot=best)
    with pytest.raises(NotFound):
        generation_job_create(
            organization=globex.org, actor=globex.hr, employee=c.employee, preset=globex.preset()
        )
    with pytest.raises(NotFound):
        generation_job_cancel(organization=c.org, actor=globex.hr, job=job)


def test_hr_may_start_a_job_for_a_person_but_a_colleague_may_not(ready):
    other = company("Acme Two", "acme2.example")
    with pytest.raises(NotFound):
        generation_job_create(
            organization=ready.org,
            actor=other.employee_user,
            employee=ready.employee,
            preset=ready.preset(),
        )
    job = generation_job_create(
        organization=ready.org, actor=ready.hr, employee=ready.employee, preset=ready.preset()
    )
    assert job.requested_by == ready.hr


def test_another_round_changes_what_the_person_asked_for(finished, client, run_jobs):
    from django.urls import reverse

    from apps.generation.models import GenerationJob

    c, first = finished
    used = set(first.headshots.filter(accepted=True).values_list("source_photo_id", flat=True))
    client.force_login(c.employee_user)
    page = client.get(reverse("job", args=[c.org.slug, first.pk])).content.decode()
    assert "What should be different?" in page and "Larger, beside my selfie" in page
    answer = client.post(
        reverse("generate", args=[c.org.slug]),
        {"preset": "corporate-executive", "change": ["closer", "lighter", "other_selfie"]},
    )
    second = GenerationJob.objects.exclude(pk=first.pk).get(employee=c.employee)
    assert answer.url == reverse("job", args=[c.org.slug, second.pk])
    assert second.adjustments["changes"] == ["closer", "lighter", "other_selfie"]
    assert set(second.adjustments["avoid_photos"]) == used
    run_jobs()
    second.refresh_from_db()
    usable = set(c.employee.photos.values_list("pk", flat=True))
    if usable - used:  # another selfie could give them: it did
        assert second.headshots.filter(accepted=True).exclude(source_photo_id__in=used).exists()
    page = client.get(reverse("job", args=[c.org.slug, second.pk])).content.decode()
    assert "This round: closer: more of my face, lighter, made from another of my selfies" in page
    bad = client.post(
        reverse("generate", args=[c.org.slug]),
        {"preset": "corporate-executive", "change": "x"},
        follow=True,
    )
    assert "Choose what should be different" in bad.content.decode()


def test_held_back_candidates_are_shown_with_reasons_in_plain_words(finished, client):
    from django.urls import reverse

    from apps.generation.models import Headshot

    c, job = finished
    weak = job.headshots.order_by("-rank").first()
    Headshot.objects.filter(pk=weak.pk).update(
        accepted=False, reason="skin tone changed (delta E 14.8, at most 10)"
    )
    client.force_login(c.employee_user)
    page = client.get(reverse("job", args=[c.org.slug, job.pk])).content.decode()
    assert "held back by our checks, and why" in page
    assert "Your skin tone came out different from your selfies." in page
    assert "delta E" not in page


def test_a_candidate_made_in_one_of_the_styles_says_which(finished, client):
    from django.urls import reverse

    from apps.generation.models import Headshot

    c, job = finished
    best = job.headshots.get(rank=1)
    Headshot.objects.filter(pk=best.pk).update(info={**best.info, "style": "Navy suit"})
    client.force_login(c.employee_user)
    page = client.get(reverse("job", args=[c.org.slug, job.pk])).content.decode()
    assert '<p class="muted">Navy suit</p>' in page
