from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from apps.audit.models import AuditEvent
from apps.core.errors import PermissionDenied, StateConflict, ValidationFailed
from apps.photos.models import IdentityProfile, Photo, PhotoStatus
from apps.photos.services import consent_give, employee_biometrics_delete, photo_upload
from tests.apps.factories import company, upload
from tests.conftest import release_on_commit_hooks

pytestmark = pytest.mark.django_db


def stored_files() -> list[str]:
    found = []

    def walk(folder: str) -> None:
        dirs, files = default_storage.listdir(folder)
        found.extend(f"{folder}/{f}".lstrip("/") for f in files)
        for d in dirs:
            walk(f"{folder}/{d}".lstrip("/"))

    walk("")
    return found


def test_no_upload_before_consent(db, selfies):
    shy = company("Shy Corp", "shy.example", consent=False)
    before = stored_files()
    with pytest.raises(StateConflict, match="consent"):
        upload(shy, selfies["selfie-01.png"])
    assert Photo.objects.count() == 0 and stored_files() == before


def test_consent_records_version_ip_and_refuses_stale_text(acme):
    record = acme.employee.consents.get()
    assert record.text_version and record.given_at
    with pytest.raises(ValidationFailed, match="consent text has changed"):
        consent_give(
            organization=acme.org,
            employee=acme.employee,
            actor=acme.employee_user,
            text_version="1999-01",
        )
    with pytest.raises(PermissionDenied):
        consent_give(
            organization=acme.org,
            employee=acme.employee,
            actor=acme.hr,
            text_version=record.text_version,
        )


def test_nobody_uploads_for_someone_else(acme, globex, selfies):
    with pytest.raises(PermissionDenied):
        photo_upload(
            organization=acme.org,
            employee=acme.employee,
            actor=acme.hr,
            data=selfies["selfie-01.png"],
        )
    with pytest.raises(Exception) as caught:
        photo_upload(
            organization=acme.org,
            employee=acme.employee,
            actor=globex.employee_user,
            data=selfies["selfie-01.png"],
        )
    assert caught.value.status_code == 404


def test_refused_file_stores_nothing(acme):
    before = stored_files()
    with pytest.raises(ValidationFailed, match="JPEG"):
        upload(acme, b"<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    assert Photo.objects.count() == 0 and stored_files() == before


def test_same_photo_twice_is_stored_once(acme, selfies):
    first, created = upload(acme, selfies["selfie-01.png"])
    again, created_again = upload(acme, selfies["selfie-01.png"])
    assert created and not created_again and first.pk == again.pk


def test_upload_is_checked_by_the_worker_with_reasons(acme, selfies, run_jobs):
    usable, _ = upload(acme, selfies["selfie-01.png"])
    group, _ = upload(acme, selfies["selfie-09-group.jpg"])
    assert usable.status == PhotoStatus.PENDING
    assert run_jobs() == 2
    usable.refresh_from_db()
    group.refresh_from_db()
    assert (
        usable.status == PhotoStatus.USABLE
        and usable.embedding
        and usable.face_backend == "dlib-resnet-v1"
    )
    assert group.status == PhotoStatus.UNUSABLE and group.embedding is None
    failed = [c for c in group.report["checks"] if c["status"] == "fail"]
    assert failed[0]["code"] == "multiple_faces" and "alone" in failed[0]["message"]


def test_normalised_copy_has_no_metadata(acme, selfies):
    import io

    from PIL import Image

    photo, _ = upload(acme, selfies["selfie-04-warm.jpg"])
    from apps.core.storage import private_read

    image = Image.open(io.BytesIO(private_read(photo.normalised.name)))
    assert image.format == "JPEG" and not image.getexif()


def test_deleting_biometrics_removes_files_rows_and_embeddings(finished):
    ready, _ = finished
    assert IdentityProfile.objects.filter(employee=ready.employee).exists()
    names = [p.normalised.name for p in Photo.objects.filter(employee=ready.employee)]
    assert all(default_storage.exists(n) for n in names)
    employee_biometrics_delete(
        organization=ready.org, employee=ready.employee, actor=ready.hr, reason="request"
    )
    release_on_commit_hooks()
    assert not Photo.objects.filter(employee=ready.employee).exists()
    assert not IdentityProfile.objects.filter(employee=ready.employee).exists()
    assert not any(default_storage.exists(n) for n in names)
    event = AuditEvent.objects.get(action="biometrics.deleted")
    assert event.data == {"photos": 4, "reason": "request"}


def test_missing_face_model_marks_the_photo_with_the_reason(acme, selfies, run_jobs, monkeypatch):
    from apps.core import pipeline_access
    from pipeline.errors import ModelMissing

    def missing():
        raise ModelMissing("Face model files are missing: /models/x.dat. Install them with ...")

    monkeypatch.setattr(pipeline_access, "get_pipeline", missing)
    photo, _ = upload(acme, selfies["selfie-01.png"])
    run_jobs()
    photo.refresh_from_db()
    assert photo.status == PhotoStatus.ERROR
    assert "/models/x.dat" in photo.report["error"] and photo.report["usable"] is False


def test_a_person_deletes_one_selfie_and_the_face_template_made_with_it(finished, client):
    from django.urls import reverse

    c, _ = finished
    photo = Photo.objects.filter(employee=c.employee).first()
    name = photo.normalised.name
    profile = IdentityProfile.objects.get(employee=c.employee)
    assert photo.pk in profile.photo_ids
    client.force_login(c.employee_user)
    page = client.get(reverse("photos", args=[c.org.slug])).content.decode()
    assert "of the 3 we need" in page and "Delete this photo" in page
    answer = client.post(reverse("photo-delete", args=[c.org.slug, photo.pk]))
    assert answer.status_code == 302
    release_on_commit_hooks()
    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert not default_storage.exists(name)
    assert not IdentityProfile.objects.filter(employee=c.employee).exists()
    assert AuditEvent.objects.filter(action="photo.deleted").exists()
    # someone else's photo: as if it did not exist
    other = Photo.objects.filter(employee=c.employee).first()
    client.force_login(c.hr)
    assert client.post(reverse("photo-delete", args=[c.org.slug, other.pk])).status_code == 404
    assert Photo.objects.filter(pk=other.pk).exists()


def test_a_selfie_is_not_deleted_while_a_round_is_made_from_it(ready, client):
    from django.urls import reverse

    from tests.apps.factories import start_job

    start_job(ready)  # queued, not run
    photo = Photo.objects.filter(employee=ready.employee).first()
    client.force_login(ready.employee_user)
    answer = client.post(reverse("photo-delete", args=[ready.org.slug, photo.pk]), follow=True)
    assert "being made from these photos" in answer.content.decode()
    assert Photo.objects.filter(pk=photo.pk).exists()
