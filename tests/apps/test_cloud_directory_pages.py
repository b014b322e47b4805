"""HR configures Microsoft Entra ID and Google Workspace from the pages: settings with a
write-only credential, test connection, a dry run, "sync now", each person's result."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.publishing.models import CloudDirectory


def page(c, target="microsoft", tail=""):
    return reverse("cloud-directory", args=[c.org.slug, target]) + tail


def test_hr_sets_up_microsoft_runs_a_dry_run_and_a_sync(
    ready_headshot, microsoft, client, run_jobs
):
    c, _ = ready_headshot
    pat = microsoft.add_user("pat@acme.example")
    client.force_login(c.hr)
    empty = client.get(page(c)).content.decode()
    assert "App registrations" in empty and "User.ReadWrite.All" in empty
    assert "HEADSHOTS_GRAPH_SECRET__ACME" in empty  # where the operator may put it instead
    wrong = client.post(
        page(c),
        {
            "enabled": "on",
            "tenant_id": "not a tenant",
            "client_id": microsoft.client_id,
            "match_by": "userPrincipalName",
            "credential": microsoft.client_secret,
        },
    ).content.decode()
    assert "The directory (tenant) ID is the GUID on the Entra ID overview page" in wrong
    assert not CloudDirectory.objects.exists()
    saved = client.post(
        page(c),
        {
            "enabled": "on",
            "tenant_id": microsoft.tenant,
            "client_id": microsoft.client_id,
            "match_by": "userPrincipalName",
            "credential": microsoft.client_secret,
        },
        follow=True,
    ).content.decode()
    assert "Settings saved" in saved and microsoft.client_secret not in saved
    assert "A credential is stored, encrypted" in saved
    stored = CloudDirectory.objects.get(organization=c.org)
    assert microsoft.client_secret not in stored.credential_sealed
    tested = client.post(page(c, tail="test/"), follow=True).content.decode()
    assert "Signed in to Microsoft Entra ID" in tested
    preview = client.post(page(c, tail="dry-run/"), follow=True).content.decode()
    assert "Dry run: what the next sync would do" in preview
    assert "send the photo: 1" in preview and "Pat O&#x27;Brien" in preview
    assert pat.photo is None and microsoft.calls("PUT") == 0
    started = client.post(
        reverse("directory-sync-now", args=[c.org.slug]), {"back": "microsoft"}, follow=True
    )
    assert "The sync has started" in started.content.decode()
    run_jobs()
    assert pat.photo is not None
    results = client.get(page(c)).content.decode()
    assert "Each person's photo" in results and "Photo in place" in results
    assert "Last sync" in results and "photo sent 1" in results


def test_a_bad_key_file_and_an_unknown_target_are_refused_in_words(acme, client):
    client.force_login(acme.hr)
    answer = client.post(
        page(acme, "google"),
        {"enabled": "on", "admin_email": "admin@acme.example", "credential": "{not json"},
    ).content.decode()
    assert "The service account key is not a JSON key file." in answer
    assert not CloudDirectory.objects.exists()
    assert client.get(page(acme, "slack")).status_code == 404


def test_google_page_shows_the_delegation_steps_and_a_failed_person(ready_headshot, google, client):
    from apps.publishing.cloud_sync import cloud_sync

    c, _ = ready_headshot
    client.force_login(c.hr)
    answer = client.post(
        page(c, "google"),
        {"enabled": "on", "admin_email": "admin@acme.example", "credential": google.key_file()},
        follow=True,
    ).content.decode()
    assert "Settings saved" in answer and "Domain-wide delegation" in answer
    cloud_sync(organization=c.org, kind="google", dry_run=False)  # Pat is not in Google
    shown = client.get(page(c, "google")).content.decode()
    assert "Not published" in shown and "Nobody in Google Workspace is pat@acme.example." in shown


@pytest.mark.parametrize("target", ["microsoft", "google"])
def test_only_hr_reaches_the_cloud_directory_pages(acme, globex, client, target):
    for person in (acme.employee_user, acme.approver):
        client.force_login(person)
        assert client.get(page(acme, target)).status_code == 403
        assert client.post(page(acme, target, "dry-run/")).status_code == 403
    client.force_login(globex.hr)
    assert client.get(page(acme, target)).status_code == 404
    assert client.post(reverse("directory-sync-now", args=[acme.org.slug])).status_code == 404
