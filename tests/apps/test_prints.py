"""The print version of a picked headshot: made by a worker once the person picks, used by
cards and the print export, deleted with the headshot, and a missing model said in plain
words rather than a crash."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from apps.core.crypto import is_encrypted
from apps.core.pipeline_access import release_pipeline
from apps.core.storage import private_read, private_read_raw
from apps.generation.models import Headshot, PrintState
from apps.generation.services import employee_headshots_delete, headshot_pick
from apps.publishing.exports import export_zip
from apps.publishing.models import PublicationStatus, PublicationTarget
from apps.publishing.services import publication_request
from pipeline.provenance import read_digital_source_type

pytestmark = pytest.mark.django_db


def _files_under(folder: str) -> list[str]:
    directories, files = default_storage.listdir(folder)
    return files + [f"{d}/{name}" for d in directories for name in _files_under(f"{folder}/{d}")]


def test_a_pick_makes_the_print_version_that_cards_and_the_print_export_use(
    approved, run_jobs, client
):
    c, headshot = approved
    assert Headshot.objects.get(pk=headshot.pk).print_state == PrintState.QUEUED
    run_jobs()
    headshot.refresh_from_db()
    assert headshot.print_state == PrintState.READY and headshot.print_progress == 100
    assert headshot.print_upscaler == "lanczos"  # what the test settings chose, recorded
    raw = private_read_raw(headshot.print_image.name)
    assert is_encrypted(raw)  # made from a face: encrypted like the headshot
    original = Image.open(io.BytesIO(private_read(headshot.image.name)))
    printed = Image.open(io.BytesIO(private_read(headshot.print_image.name)))
    assert printed.size == (original.width * 2, original.height * 2)
    assert read_digital_source_type(printed.info["xmp"]) == read_digital_source_type(
        original.info["xmp"]
    )  # the label of what made it travels to print
    assert headshot.print_source() == headshot.print_image.name
    # the print export's largest size is cut from the print version, at its own pixels
    with zipfile.ZipFile(io.BytesIO(export_zip([headshot]))) as archive:
        name = next(n for n in archive.namelist() if n.endswith("-print-2048.jpg"))
        assert Image.open(io.BytesIO(archive.read(name))).size == (2048, 2048)
    card = publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.BUSINESS_CARD
    )
    run_jobs()
    card.refresh_from_db()
    assert card.status == PublicationStatus.SUCCEEDED
    # the person sees it on their page
    client.force_login(c.employee_user)
    page = client.get(reverse("job", args=[c.org.slug, headshot.job_id]))
    assert f"Print version ready ({original.width * 2} &times; {original.height * 2} px)" in (
        page.content.decode()
    )


def test_a_missing_print_model_is_said_and_cards_keep_working(
    approved, run_jobs, settings, tmp_path, client
):
    c, headshot = approved
    settings.HEADSHOTS = {
        **settings.HEADSHOTS,
        "PRINT_UPSCALER": "realesrgan",
        "MODEL_DIR": str(tmp_path),  # an empty model folder: only the print needs a model here
        "FACE_DETECTOR": "hog",
        "RETOUCH_LANDMARKS": "five-point",
    }
    release_pipeline()
    try:
        run_jobs()
    finally:
        release_pipeline()
    headshot.refresh_from_db()
    assert headshot.print_state == PrintState.FAILED
    assert str(tmp_path / "realesrgan" / "RealESRGAN_x4plus.pth") in headshot.print_error
    assert "models install" in headshot.print_error
    assert headshot.print_source() == headshot.image.name  # cards use the headshot itself
    client.force_login(c.employee_user)
    text = client.get(reverse("job", args=[c.org.slug, headshot.job_id])).content.decode()
    assert "No print version" in text and "RealESRGAN" not in text  # no file paths to people
    card = publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.BUSINESS_CARD
    )
    run_jobs()
    card.refresh_from_db()
    assert card.status == PublicationStatus.SUCCEEDED


def test_deleting_a_persons_headshots_deletes_their_print_versions(approved, run_jobs):
    c, headshot = approved
    run_jobs()
    headshot.refresh_from_db()
    name = headshot.print_image.name
    assert default_storage.exists(name)
    employee_headshots_delete(organization=c.org, employee=c.employee)
    run_jobs()
    assert not default_storage.exists(name)


def test_a_print_finished_after_the_person_withdrew_is_not_kept(finished, run_jobs, monkeypatch):
    from apps.core.pipeline_access import get_pipeline

    c, job = finished
    headshot = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    pipeline = get_pipeline()
    make = pipeline.print_version

    def withdrawn_meanwhile(encoded, progress=None):  # the person withdraws while it is made
        made = make(encoded, progress)
        employee_headshots_delete(organization=c.org, employee=c.employee)
        return made

    monkeypatch.setattr(pipeline, "print_version", withdrawn_meanwhile)
    folder = f"org-{c.org.pk}/employee-{c.employee.pk}"
    before = set(_files_under(folder))  # storage outlives a test's database
    run_jobs()
    assert not Headshot.objects.filter(pk=headshot.pk).exists()
    assert not [n for n in set(_files_under(folder)) - before if n.endswith("-print.jpg")]
