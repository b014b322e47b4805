"""Publishing approved headshots to Microsoft Entra ID (Graph) and Google Workspace,
against local servers that keep the services' documented contracts strictly
(tests/cloud_servers.py): tokens, signatures, delegation, paths, headers, sizes,
encodings and the documented errors."""

from __future__ import annotations

import io
import json
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from apps.core.errors import ValidationFailed
from apps.organizations.models import EmployeeProfile, EmployeeStatus
from apps.organizations.tenant_secrets import seal
from apps.publishing.cloud_sync import cloud_connection_test, cloud_sync
from apps.publishing.models import CloudDirectory, Publication, PublicationStatus


def graph_target(c, server, *, secret=None, **extra):
    return CloudDirectory.objects.create(
        organization=c.org,
        kind="graph",
        tenant_id=server.tenant,
        client_id=server.client_id,
        credential_sealed=seal(server.client_secret if secret is None else secret),
        **extra,
    )


def google_target(c, server, **extra):
    values = {
        "admin_email": "admin@acme.example",
        "credential_sealed": seal(server.key_file()),
        **extra,
    }
    return CloudDirectory.objects.create(organization=c.org, kind="google", **values)


def colleagues(c, headshot, count):
    """More people of the company with an approved headshot (the same image file)."""
    from apps.generation.models import GenerationJob, Headshot

    made = []
    for index in range(count):
        employee = EmployeeProfile.objects.create(
            organization=c.org,
            full_name=f"Colleague {index}",
            email=f"colleague{index}@acme.example",
            status=EmployeeStatus.ACTIVE,
        )
        job = GenerationJob.objects.create(
            organization=c.org,
            employee=employee,
            preset_version=headshot.job.preset_version,
            base_seed=index,
            status=headshot.job.status,
        )
        made.append(
            Headshot.objects.create(
                organization=c.org,
                job=job,
                employee=employee,
                key="a",
                image=headshot.image.name,
                seed=index,
                backend=headshot.backend,
                scores=headshot.scores,
                status=headshot.status,
                decided_at=headshot.decided_at,
            )
        )
    return made


def publication(employee, target):
    return Publication.objects.get(employee=employee, target=f"directory_{target}")


def test_graph_first_publication_unchanged_rerun_and_a_changed_photo(approved, microsoft):
    c, headshot = approved
    pat = microsoft.add_user("pat@acme.example")
    graph_target(c, microsoft)
    report = cloud_sync(organization=c.org, kind="graph", dry_run=True)
    assert report["counts"] == {"write": 1} and microsoft.calls("PUT") == 0
    report = cloud_sync(organization=c.org, kind="graph", dry_run=False)
    assert report["counts"] == {"write": 1}, report
    with Image.open(io.BytesIO(pat.photo)) as photo:
        assert photo.size == (648, 648) and photo.format == "JPEG"
        assert b"DigitalSourceType" in (photo.info.get("xmp") or b"")  # the provenance label
    published = publication(c.employee, "graph")
    assert published.status == PublicationStatus.SUCCEEDED and published.external_id
    before = len(microsoft.requests)
    with CaptureQueriesContext(connection) as queries:
        again = cloud_sync(organization=c.org, kind="graph", dry_run=False)
    assert again["counts"] == {"unchanged": 1}
    assert len(microsoft.requests) == before  # not one request, not even for a token
    # and the person's record is left as it is (the run's own report is the one write)
    assert not [
        q
        for q in queries
        if "publishing_publication" in q["sql"].split(" WHERE ")[0]
        and q["sql"].startswith(("UPDATE", "INSERT"))
    ]
    # HR approves another of Pat's candidates: that photo is sent, once
    from apps.generation.services import headshot_approve, headshot_pick

    other = headshot.job.headshots.exclude(pk=headshot.pk).filter(accepted=True).first()
    headshot_pick(organization=c.org, actor=c.employee_user, headshot=other)
    headshot_approve(organization=c.org, actor=c.hr, headshot=other)
    first = pat.photo
    changed = cloud_sync(organization=c.org, kind="graph", dry_run=False)
    assert changed["counts"] == {"write": 1} and pat.photo != first
    assert microsoft.calls("PUT") == 2


def test_a_leaver_photo_is_deleted_and_an_unknown_person_reported(ready_headshot, microsoft):
    from apps.organizations.provisioning import employee_deprovision

    c, headshot = ready_headshot
    pat = microsoft.add_user("pat@acme.example")
    [ghost] = colleagues(c, headshot, 1)  # in the portal, not in Entra ID
    graph_target(c, microsoft)
    report = cloud_sync(organization=c.org, kind="graph", dry_run=False)
    assert report["counts"] == {"write": 1, "not_found": 1}
    missing = publication(ghost.employee, "graph")
    assert missing.status == PublicationStatus.FAILED
    assert (
        missing.last_error
        == "Nobody in Microsoft Entra ID / Microsoft 365 is colleague0@acme.example."
    )
    employee_deprovision(organization=c.org, actor=c.hr, employee=c.employee, source="hr")
    gone = cloud_sync(organization=c.org, kind="graph", dry_run=False)
    assert gone["counts"].get("remove") == 1 and pat.photo is None
    assert microsoft.calls("DELETE") == 1
    assert publication(c.employee, "graph").status == PublicationStatus.WITHDRAWN


def test_throttling_is_honoured_and_every_photo_arrives(ready_headshot, microsoft, settings):
    c, headshot = ready_headshot
    settings.HEADSHOTS_CLOUD_CONCURRENCY = 4
    microsoft.add_user("pat@acme.example")
    for person in colleagues(c, headshot, 7):
        microsoft.add_user(person.employee.email)
    graph_target(c, microsoft)
    microsoft.throttle(rate=4, burst=2)
    started = time.monotonic()
    report = cloud_sync(organization=c.org, kind="graph", dry_run=False)
    assert report["counts"] == {"write": 8}, report
    assert all(u.photo for u in microsoft.users.values())
    put_answers = microsoft.calls("PUT")
    assert put_answers > 8  # some were answered 429 and sent again after Retry-After
    assert time.monotonic() - started >= 1.0
    assert microsoft.most_in_flight <= 4


def test_an_expired_token_is_renewed_and_the_photo_sent(ready_headshot, microsoft):
    c, headshot = ready_headshot
    microsoft.add_user("pat@acme.example")
    target = graph_target(c, microsoft)
    cloud_sync(organization=c.org, kind="graph", dry_run=False)
    microsoft.expire_tokens()
    [new] = colleagues(c, headshot, 1)
    microsoft.add_user(new.employee.email)
    tokens = microsoft.token_requests
    report = cloud_sync(organization=c.org, kind="graph", dry_run=False)
    assert report["counts"] == {"write": 1, "unchanged": 1}
    assert microsoft.token_requests > tokens
    target.refresh_from_db()
    assert target.last_report["counts"] == {"write": 1, "unchanged": 1}


def test_a_wrong_credential_is_reported_clearly_and_nothing_recorded(ready_headshot, microsoft):
    c, _ = ready_headshot
    microsoft.add_user("pat@acme.example")
    target = graph_target(c, microsoft, secret="not-the-secret")
    with pytest.raises(ValidationFailed) as refused:
        cloud_connection_test(organization=c.org, kind="graph")
    assert "Microsoft refused the application's credential: invalid_client" in str(refused.value)
    assert "AADSTS7000215" in str(refused.value)
    with pytest.raises(ValidationFailed):
        cloud_sync(organization=c.org, kind="graph", dry_run=False)
    assert (
        microsoft.calls("PUT") == 0
        and not Publication.objects.filter(target="directory_graph").exists()
    )
    target.refresh_from_db()
    assert "invalid_client" in target.last_report["error"]
    microsoft.permission = False
    target.credential_sealed = seal(microsoft.client_secret)
    target.save()
    with pytest.raises(ValidationFailed) as denied:
        cloud_sync(organization=c.org, kind="graph", dry_run=False)
    assert "User.ReadWrite.All" in str(denied.value)


def test_a_certificate_credential_signs_its_assertion(ready_headshot, microsoft):
    c, _ = ready_headshot
    pat = microsoft.add_user("pat@acme.example")
    graph_target(
        c, microsoft, secret=microsoft.app_key_pem, certificate=microsoft.app_certificate_pem
    )
    assert "Signed in" in cloud_connection_test(organization=c.org, kind="graph")
    cloud_sync(organization=c.org, kind="graph", dry_run=False)
    assert pat.photo is not None


def test_people_matched_by_mail_are_found_first(ready_headshot, microsoft):
    c, _ = ready_headshot
    pat = microsoft.add_user("p.obrien@acme.onmicrosoft.com", mail="pat@acme.example")
    graph_target(c, microsoft, match_by="mail")
    microsoft.throttle(rate=1, burst=1)  # the lookup passes, the photo is throttled once
    cloud_sync(organization=c.org, kind="graph", dry_run=False)
    assert pat.photo is not None and microsoft.calls("PUT") == 2
    assert publication(c.employee, "graph").external_id == pat.id
    assert microsoft.calls("GET", "/v1.0/users") == 1  # found once, not again on the retry


def test_a_company_target_never_receives_another_company_people(ready_headshot, globex, microsoft):
    c, _ = ready_headshot
    microsoft.add_user("pat@acme.example")
    CloudDirectory.objects.create(
        organization=globex.org,
        kind="graph",
        tenant_id=microsoft.tenant,
        client_id=microsoft.client_id,
        credential_sealed=seal(microsoft.client_secret),
    )
    report = cloud_sync(organization=globex.org, kind="graph", dry_run=False)
    assert report["entries"] == [] and microsoft.calls("PUT") == 0
    with pytest.raises(Exception, match="No Microsoft"):
        cloud_sync(organization=c.org, kind="graph", dry_run=False)  # Acme has none


def test_google_photo_is_web_safe_square_and_face_centred(ready_headshot, google, analyzer):
    import numpy as np

    c, _ = ready_headshot
    pat = google.add_user("pat@acme.example")
    google_target(c, google)
    assert "Signed in" in cloud_connection_test(organization=c.org, kind="google")
    report = cloud_sync(organization=c.org, kind="google", dry_run=False)
    assert report["counts"] == {"write": 1}
    with Image.open(io.BytesIO(pat.photo)) as photo:
        assert photo.size == (256, 256) and pat.photo_size == (256, 256)
        square = np.asarray(photo.convert("RGB"))
    # Google shows it in a 96 px circle: the face in the middle, filling much of it
    (face,) = analyzer.detect(square)
    eyes = np.mean(face.eye_centres(), axis=0) / 256
    assert abs(eyes[0] - 0.5) < 0.08 and 0.3 < eyes[1] < 0.55, eyes
    assert (face.box[3] - face.box[1]) / 256 > 0.3
    before = len(google.requests)
    assert cloud_sync(organization=c.org, kind="google", dry_run=False)["counts"] == {
        "unchanged": 1
    }
    assert len(google.requests) == before


def test_google_leaver_quota_and_a_subject_without_delegation(ready_headshot, google):
    from apps.organizations.provisioning import employee_deprovision

    c, headshot = ready_headshot
    pat = google.add_user("pat@acme.example")
    for person in colleagues(c, headshot, 3):
        google.add_user(person.employee.email)
    target = google_target(c, google)
    google.throttle(rate=3, burst=1)  # answered 403 rateLimitExceeded past it
    report = cloud_sync(organization=c.org, kind="google", dry_run=False)
    assert report["counts"] == {"write": 4}, report
    assert google.calls("PUT") > 4
    google.bucket = None
    employee_deprovision(organization=c.org, actor=c.hr, employee=c.employee, source="hr")
    assert cloud_sync(organization=c.org, kind="google", dry_run=False)["counts"]["remove"] == 1
    assert pat.photo is None
    target.admin_email = "someone@acme.example"  # not an administrator with delegation
    target.save()
    google.expire_tokens()
    with pytest.raises(ValidationFailed) as refused:
        cloud_connection_test(organization=c.org, kind="google")
    assert "Google refused the service account" in str(refused.value)
    assert "unauthorized_client" in str(refused.value)


def test_the_key_file_cannot_send_tokens_elsewhere(ready_headshot, google):
    """A key file names its own token_uri; the portal sends the signed grant only to the
    operator's token endpoint."""
    c, _ = ready_headshot
    google.add_user("pat@acme.example")
    google_target(
        c, google, credential_sealed=seal(google.key_file(token_uri="https://attacker.example/t"))
    )
    cloud_sync(organization=c.org, kind="google", dry_run=False)
    assert google.token_requests == 1
    key = json.loads(google.key_file())
    assert key["token_uri"] != google.token_url  # it was overridden, not taken as given


def test_the_cloud_benchmark_runs_and_an_unchanged_rerun_sends_nothing(tmp_path):
    from bench.cloud_sync import main

    record = main(
        [
            "--people",
            "12",
            "--latency-ms",
            "1",
            "--rate",
            "50",
            "--results",
            str(tmp_path / "r.json"),
        ]
    )
    assert record["unchanged_rerun_requests"] == 0 and record["people"] == 12
    assert json.loads((tmp_path / "r.json").read_text())["cloud_sync"] == record


def test_a_photo_in_two_directories_is_one_mail_to_the_person(
    ready_headshot, microsoft, google, mailoutbox, django_capture_on_commit_callbacks, settings
):
    c, _ = ready_headshot
    bundle = microsoft.ca_bundle.parent / "both.pem"  # one bundle trusts both services
    bundle.write_text(microsoft.certificate_pem + google.certificate_pem)
    settings.HEADSHOTS_DIRECTORY_CA_BUNDLE = str(bundle)
    microsoft.add_user("pat@acme.example")
    google.add_user("pat@acme.example")
    graph_target(c, microsoft)
    google_target(c, google)
    with django_capture_on_commit_callbacks(execute=True):
        cloud_sync(organization=c.org, kind="graph", dry_run=False)
        cloud_sync(organization=c.org, kind="google", dry_run=False)
    published = [m for m in mailoutbox if m.subject == "Your headshot is published"]
    assert len(published) == 1 and "Microsoft 365" in published[0].body
