"""The fairness report groups photo checks and identity scores by measured skin tone and
flags a band the checks or the face models serve worse."""

from __future__ import annotations

import hashlib

from django.urls import reverse

from apps.photos.fairness import fairness_report
from apps.photos.models import Photo, PhotoStatus


def _photos(c, band: str, usable: int, unusable: int, failing: str = "exposure") -> None:
    for index in range(usable + unusable):
        ok = index < usable
        Photo.objects.create(
            organization=c.org,
            employee=c.employee,
            normalised=f"none/{band}-{index}.jpg",
            sha256=hashlib.sha256(f"{band}-{index}".encode()).hexdigest(),
            source_format="JPEG",
            width=1000,
            height=1000,
            status=PhotoStatus.USABLE if ok else PhotoStatus.UNUSABLE,
            report={
                "usable": ok,
                "checks": [] if ok else [{"code": failing, "status": "fail"}],
                "attributes": {"skin_tone": band, "skin_ita": 0.0},
            },
        )


def test_a_band_the_checks_serve_worse_is_flagged(acme):
    _photos(acme, "light", usable=11, unusable=1)
    _photos(acme, "brown", usable=6, unusable=6, failing="exposure")
    _photos(acme, "dark", usable=1, unusable=2)
    report = fairness_report(organization=acme.org)
    groups = {g.band: g for g in report["groups"]}
    assert report["flagged"] == ["brown"]
    assert groups["brown"].pass_rate == 0.5 and groups["brown"].top_failures() == [
        ("exposure", 0.5)
    ]
    assert "50%" in groups["brown"].flags[0] and "92%" in groups["brown"].flags[0]
    assert not groups["dark"].comparable and not groups["dark"].flags  # three photos: no verdict
    assert "tan" not in groups  # nobody measured there


def test_no_flag_when_the_bands_are_served_alike(acme):
    _photos(acme, "light", usable=10, unusable=2)
    _photos(acme, "tan", usable=9, unusable=3)
    assert fairness_report(organization=acme.org)["flagged"] == []


def test_real_checks_and_scores_land_in_the_measured_band(finished, client):
    c, job = finished
    report = fairness_report(organization=c.org)
    assert sum(g.photos for g in report["groups"]) == 4  # each photo measured on its own
    assert sum(g.usable for g in report["groups"]) == 4
    enrolled = c.employee.identity.attributes["skin_tone"]
    group = next(g for g in report["groups"] if g.band == enrolled)
    # the person and their candidates count in the band of their enrolled skin tone
    assert group.candidates == job.headshots.count() and group.identity_median > 0.5
    assert group.people == {c.employee.pk}
    assert all(not g.people for g in report["groups"] if g.band != enrolled)
    client.force_login(c.hr)
    page = client.get(reverse("fairness", args=[c.org.slug])).content.decode()
    assert group.band in page and "too few to compare" in page
    client.force_login(c.employee_user)
    assert client.get(reverse("fairness", args=[c.org.slug])).status_code == 403


def test_a_refused_photo_counts_in_the_band_of_its_measured_skin_tone(ready, selfies, run_jobs):
    from tests.apps.factories import upload

    upload(ready, selfies["selfie-06-blurred.jpg"])
    run_jobs()
    report = fairness_report(organization=ready.org)
    refused = [g for g in report["groups"] if g.photos > g.usable]
    assert [g.band for g in refused] != ["not measured"] and len(refused) == 1
    assert dict(refused[0].top_failures())["sharpness"] > 0
