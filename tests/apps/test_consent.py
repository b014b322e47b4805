"""Consent texts versioned per company: a new text stops every earlier consent from
counting until the person agrees to it."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from apps.core.errors import PermissionDenied, StateConflict, ValidationFailed
from apps.photos.models import ConsentRecord, Photo
from apps.photos.selectors import consent_current, consent_text_current
from apps.photos.services import consent_give, consent_text_publish
from tests.apps.factories import start_job, upload

TEXT = (
    "Acme collects the selfies you upload and a face template made from them, which is "
    "biometric data, only to make your company headshot. The people who approve headshots "
    "see them. Nothing is shared outside Acme. You can withdraw at any time on the consent page."
)


def test_a_new_company_text_asks_everyone_to_consent_again(ready, selfies, globex, run_jobs):
    c = ready
    before = consent_current(organization=c.org, employee=c.employee)
    assert before is not None and before.text_sha256
    text = consent_text_publish(organization=c.org, actor=c.hr, body=TEXT)
    assert text.version == "acme-v1" and text.sha256 == hashlib.sha256(TEXT.encode()).hexdigest()
    assert consent_text_current(organization=c.org).version == "acme-v1"
    assert consent_text_current(organization=globex.org).body == ""  # other companies keep theirs
    assert consent_current(organization=globex.org, employee=globex.employee) is not None
    # no biometric processing on the old consent
    assert consent_current(organization=c.org, employee=c.employee) is None
    with pytest.raises(StateConflict):
        upload(c, selfies["selfie-05-closer.jpg"])
    with pytest.raises(StateConflict):
        start_job(c)
    with pytest.raises(ValidationFailed):  # agreeing to the text one saw before
        consent_give(
            organization=c.org,
            employee=c.employee,
            actor=c.employee_user,
            text_version=before.text_version,
        )
    record = consent_give(
        organization=c.org, employee=c.employee, actor=c.employee_user, text_version="acme-v1"
    )
    assert record.text_sha256 == text.sha256
    assert start_job(c).pk
    assert (
        consent_text_publish(organization=c.org, actor=c.hr, body=TEXT + "\r\n") == text
    )  # same text


def test_only_hr_publishes_and_a_text_must_say_enough(acme):
    with pytest.raises(PermissionDenied):
        consent_text_publish(organization=acme.org, actor=acme.employee_user, body=TEXT)
    with pytest.raises(ValidationFailed):
        consent_text_publish(organization=acme.org, actor=acme.hr, body="We take your photos.")


def test_consent_pages_show_the_company_text_and_its_versions(acme, client):
    client.force_login(acme.hr)
    url = reverse("consent-text", args=[acme.org.slug])
    client.post(url, {"body": TEXT + "\n\n<script>alert(1)</script>"})
    page = client.get(url).content.decode()
    assert "acme-v1" in page and "Standard text" in page
    client.force_login(acme.employee_user)
    shown = client.get(reverse("consent", args=[acme.org.slug])).content.decode()
    assert (
        "Acme collects the selfies" in shown
        and "&lt;script&gt;" in shown
        and "<script>alert" not in shown
    )
    assert re.search(r'name="text_version" value="acme-v1"', shown)
    assert "I agree" in shown  # the earlier consent no longer counts
    client.post(
        reverse("consent", args=[acme.org.slug]), {"text_version": "acme-v1", "agree": "yes"}
    )
    assert ConsentRecord.objects.filter(employee=acme.employee, text_version="acme-v1").exists()
    assert client.get(url).status_code == 403


def test_photo_checks_wait_for_a_current_consent(acme, selfies, run_jobs):
    photo, _ = upload(acme, selfies["selfie-01.png"])
    consent_text_publish(organization=acme.org, actor=acme.hr, body=TEXT)
    run_jobs()
    photo.refresh_from_db()
    assert photo.status == "pending" and photo.embedding is None
    assert Photo.objects.count() == 1
