"""The retention schedule, carried out and checked directly in storage and the database."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.storage import default_storage
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.generation.models import GenerationJob, Headshot
from apps.organizations.models import EmployeeStatus
from apps.photos.models import IdentityProfile, Photo
from apps.photos.retention import retention_purge, retention_schedule
from tests.conftest import release_on_commit_hooks


def files_of(employee) -> list[str]:
    names = [p.normalised.name for p in Photo.objects.filter(employee=employee)]
    names += [h.image.name for h in Headshot.objects.filter(employee=employee)]
    return names


def test_selfies_and_embeddings_go_after_the_retention_period(approved):
    c, headshot = approved
    selfie_files = [p.normalised.name for p in Photo.objects.filter(employee=c.employee)]
    assert selfie_files and all(default_storage.exists(n) for n in selfie_files)
    assert retention_purge(now=timezone.now() + timedelta(days=29)) == {
        "people_biometrics": 0,
        "leavers": 0,
    }
    assert Photo.objects.filter(employee=c.employee).exists()
    assert retention_purge(now=timezone.now() + timedelta(days=31))["people_biometrics"] == 1
    release_on_commit_hooks()
    assert not Photo.objects.filter(employee=c.employee).exists()
    assert not IdentityProfile.objects.filter(employee=c.employee).exists()
    assert not any(default_storage.exists(n) for n in selfie_files)
    assert Headshot.objects.filter(pk=headshot.pk).exists()  # the approved headshot stays
    event = AuditEvent.objects.filter(action="biometrics.deleted").latest("sequence")
    assert event.actor_label == "system" and "retention" in event.data["reason"]
    assert set(event.data) == {"photos", "reason"}  # what went, never the data itself


def test_everything_of_a_leaver_goes(approved):
    c, _ = approved
    names = files_of(c.employee)
    c.employee.status = EmployeeStatus.LEFT
    c.employee.left_at = timezone.now() - timedelta(hours=1)
    c.employee.save(update_fields=["status", "left_at"])
    assert retention_purge()["leavers"] == 1
    release_on_commit_hooks()
    assert not Photo.objects.filter(employee=c.employee).exists()
    assert not Headshot.objects.filter(employee=c.employee).exists()
    assert not GenerationJob.objects.filter(employee=c.employee).exists()
    assert not any(default_storage.exists(n) for n in names)
    assert AuditEvent.objects.filter(action="retention.leaver_purged").exists()
    assert retention_purge()["leavers"] == 0  # nothing left to do


def test_a_leavers_photo_still_in_the_directory_waits_for_its_withdrawal(approved):
    from apps.publishing.models import Publication, PublicationStatus, PublicationTarget

    c, headshot = approved
    Publication.objects.create(
        organization=c.org,
        employee=c.employee,
        headshot=headshot,
        target=PublicationTarget.DIRECTORY_LDAP,
        status=PublicationStatus.SUCCEEDED,
    )
    c.employee.status = EmployeeStatus.LEFT
    c.employee.left_at = timezone.now() - timedelta(hours=1)
    c.employee.save(update_fields=["status", "left_at"])
    retention_purge()
    assert Headshot.objects.filter(pk=headshot.pk).exists()  # the sync must remove it first
    assert not Photo.objects.filter(employee=c.employee).exists()  # biometrics go anyway


def test_the_schedule_is_stated_for_employees(acme):
    lines = retention_schedule(acme.org)
    assert "30 days after your headshot is approved" in lines[0] and "at once" in lines[1]


def test_hr_records_a_leaver_and_the_purge_follows(approved):
    import pytest

    from apps.core.errors import PermissionDenied
    from apps.organizations.services import employee_leave

    c, _ = approved
    with pytest.raises(PermissionDenied):
        employee_leave(organization=c.org, actor=c.employee_user, employee=c.employee)
    employee_leave(organization=c.org, actor=c.hr, employee=c.employee)
    c.employee.refresh_from_db()
    assert c.employee.status == EmployeeStatus.LEFT and c.employee.left_at is not None
    assert retention_purge()["leavers"] == 1  # leaver_retention_days is 0: at once


def test_withdrawing_consent_stops_the_job_and_deletes_selfies_and_embeddings(ready, run_jobs):
    import pytest

    from apps.core.errors import StateConflict
    from apps.generation.models import GenerationJob
    from apps.photos.services import consent_withdraw
    from tests.apps.factories import start_job, upload

    job = start_job(ready)
    files = [p.normalised.name for p in Photo.objects.filter(employee=ready.employee)]
    assert consent_withdraw(
        organization=ready.org, employee=ready.employee, actor=ready.employee_user
    ) == len(files)
    release_on_commit_hooks()
    run_jobs()
    assert not GenerationJob.objects.filter(pk=job.pk).exists()  # stopped, then deleted
    assert not Photo.objects.filter(employee=ready.employee).exists()
    assert not IdentityProfile.objects.filter(employee=ready.employee).exists()
    assert not any(default_storage.exists(n) for n in files)
    with pytest.raises(StateConflict, match="consent"):  # no new upload without consent again
        upload(ready, b"\xff\xd8\xff")
    with pytest.raises(StateConflict, match="no consent to withdraw"):
        consent_withdraw(organization=ready.org, employee=ready.employee, actor=ready.employee_user)
