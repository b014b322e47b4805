"""Consent withdrawn, data deleted, a person gone: no use of their face goes on.

Headshots made from a person's selfies are personal data: they are encrypted at rest,
deleted with the selfies, and a photo already in the directory is removed from it.
"""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from apps.core.crypto import is_encrypted
from apps.core.errors import NotFound, PermissionDenied, StateConflict
from apps.core.storage import private_read_raw
from apps.generation.models import Headshot, HeadshotStatus
from apps.generation.selectors import headshot_get
from apps.generation.services import headshot_approve, headshot_pick, headshot_reject
from apps.photos.models import ConsentRecord
from apps.photos.services import consent_withdraw
from apps.publishing.directory_sync import directory_sync
from apps.publishing.models import Publication, PublicationStatus, PublicationTarget
from apps.publishing.services import publication_request, publication_run
from tests.apps.factories import user
from tests.conftest import release_on_commit_hooks

pytestmark = pytest.mark.django_db


def test_generated_headshots_and_cards_are_encrypted_at_rest(approved, run_jobs):
    c, headshot = approved
    raw = private_read_raw(headshot.image.name)
    assert is_encrypted(raw) and b"\xff\xd8\xff" not in raw[:64]
    card = publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.BUSINESS_CARD
    )
    run_jobs()
    card.refresh_from_db()
    assert card.status == PublicationStatus.SUCCEEDED
    assert is_encrypted(private_read_raw(card.artifact.name))


def test_withdrawal_deletes_every_headshot_and_removes_the_directory_photo(directory, run_jobs):
    c, headshot, server = directory
    directory_sync(organization=c.org, dry_run=False)
    assert server.read(server.pat, "thumbnailPhoto") is not None
    card = publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.BUSINESS_CARD
    )
    run_jobs()
    card.refresh_from_db()
    files = [h.image.name for h in Headshot.objects.filter(employee=c.employee)]
    files.append(card.artifact.name)
    assert len(files) > 2 and all(default_storage.exists(n) for n in files)

    consent_withdraw(organization=c.org, employee=c.employee, actor=c.employee_user)
    release_on_commit_hooks()
    # Every file made from the face is gone at once: candidates, the approved one, the card.
    assert not any(default_storage.exists(n) for n in files)
    assert not Publication.objects.filter(target=PublicationTarget.BUSINESS_CARD).exists()
    kept = Headshot.objects.get(pk=headshot.pk)  # only to remove the directory photo
    assert kept.status == HeadshotStatus.WITHDRAWN and not kept.image
    assert Headshot.objects.filter(employee=c.employee).count() == 1
    with pytest.raises(NotFound):
        headshot_get(organization=c.org, pk=headshot.pk)
    # The sync sent by the withdrawal removes the photo from the directory, and the record
    # kept for it goes.
    run_jobs()
    assert server.read(server.pat, "thumbnailPhoto") is None
    assert not Headshot.objects.filter(employee=c.employee).exists()
    assert (
        Publication.objects.filter(employee=c.employee, target=PublicationTarget.DIRECTORY_LDAP)
        .exclude(status=PublicationStatus.WITHDRAWN)
        .count()
        == 0
    )


def test_without_consent_nothing_can_be_picked_approved_or_published(finished, run_jobs):
    """Withdrawal racing a decision: the rows still exist, the decisions are refused."""
    c, job = finished
    first, second = job.headshots.filter(accepted=True).order_by("rank")[:2]
    picked = headshot_pick(organization=c.org, actor=c.employee_user, headshot=first)
    approved = headshot_approve(organization=c.org, actor=c.hr, headshot=picked)
    ConsentRecord.objects.filter(employee=c.employee).update(withdrawn_at=timezone.now())
    with pytest.raises(StateConflict, match="withdrawn their consent"):
        headshot_pick(organization=c.org, actor=c.employee_user, headshot=second)
    with pytest.raises(StateConflict, match="withdrawn their consent"):
        headshot_approve(organization=c.org, actor=c.hr, headshot=approved)
    card = Publication.objects.create(
        organization=c.org,
        employee=c.employee,
        headshot=approved,
        target=PublicationTarget.BUSINESS_CARD,
    )
    publication_run(publication_id=card.pk)
    card.refresh_from_db()
    assert card.status == PublicationStatus.FAILED and not card.artifact
    assert "withdrew their consent" in card.last_error


def test_a_leavers_headshots_are_not_used(finished):
    from apps.organizations.services import employee_leave

    c, job = finished
    picked = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    employee_leave(organization=c.org, actor=c.hr, employee=c.employee)
    with pytest.raises(StateConflict, match="left the company"):
        headshot_approve(organization=c.org, actor=c.hr, headshot=picked)


def test_nobody_decides_on_their_own_headshot(finished):
    """An approver who is also photographed picks their own; another approver decides."""
    from apps.organizations.models import Membership, Role

    c, job = finished
    Membership.objects.filter(organization=c.org, user=c.employee_user).update(role=Role.APPROVER)
    picked = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    with pytest.raises(PermissionDenied, match="your own headshot"):
        headshot_approve(organization=c.org, actor=c.employee_user, headshot=picked)
    with pytest.raises(PermissionDenied, match="your own headshot"):
        headshot_reject(organization=c.org, actor=c.employee_user, headshot=picked, reason="meh")
    assert Headshot.objects.get(pk=picked.pk).status == HeadshotStatus.PICKED
    other = user("lead@acme.example")
    Membership.objects.create(organization=c.org, user=other, role=Role.APPROVER)
    assert (
        headshot_approve(organization=c.org, actor=other, headshot=picked).status
        == HeadshotStatus.APPROVED
    )
