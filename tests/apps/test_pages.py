"""The portal's pages through Django's test client: the employee's journey from consent to
pick, HR's approvals, and the signed links that show private images."""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image

from apps.generation.models import HeadshotStatus, JobStatus
from apps.photos.models import Photo
from tests.apps.conftest import USABLE
from tests.apps.factories import company
from tests.conftest import release_on_commit_hooks

MEDIA = re.compile(r'src="(/media/[^"]+)"')


def test_employee_goes_from_consent_to_pick_and_hr_approves(db, client, selfies, run_jobs):
    c = company("Acme", "acme.example", consent=False)
    client.force_login(c.employee_user)
    home = client.get(reverse("employee-home", args=[c.org.slug]))
    assert home.status_code == 200 and "Read and consent" in home.content.decode()
    # selfies before consent: sent to the consent page, nothing stored
    assert client.get(reverse("photos", args=[c.org.slug])).url.endswith("/me/consent/")
    refused = client.post(reverse("photo-upload", args=[c.org.slug]), {"photo": io.BytesIO(b"x")})
    assert refused.status_code == 409 and not Photo.objects.exists()
    text = client.get(reverse("consent", args=[c.org.slug])).content.decode()
    assert "biometric data" in text and f"{c.org.retention_days} days" in text
    version = re.search(r'name="text_version" value="([^"]+)"', text).group(1)
    unticked = client.post(reverse("consent", args=[c.org.slug]), {"text_version": version})
    assert unticked.status_code == 302 and not c.employee.consents.exists()
    client.post(reverse("consent", args=[c.org.slug]), {"text_version": version, "agree": "yes"})
    assert c.employee.consents.filter(withdrawn_at__isnull=True).count() == 1

    ids = []
    for name in USABLE:
        answer = client.post(
            reverse("photo-upload", args=[c.org.slug]), {"photo": _file(selfies[name], name)}
        )
        assert answer.status_code == 201, answer.content
        body = answer.json()
        assert body["checked"] is False and body["marked_url"].startswith("/media/")
        ids.append(body["id"])
    bad = client.post(
        reverse("photo-upload", args=[c.org.slug]), {"photo": _file(b"<svg></svg>", "x.jpg")}
    )
    assert bad.status_code == 400 and bad.json()["detail"]
    run_jobs()
    status = client.get(reverse("photo-status", args=[c.org.slug, ids[0]])).json()
    assert status["checked"] and status["usable"] and status["usable_count"] == 4
    marked = client.get(status["marked_url"])
    assert marked.status_code == 200 and marked["Content-Type"] == "image/jpeg"
    assert "private" in marked["Cache-Control"]
    photos = client.get(reverse("photos", args=[c.org.slug])).content.decode()
    assert (
        "<span data-usable>4</span>" in photos
        and "disabled" not in photos.split('id="generate-button"')[1][:30]
    )

    started = client.post(reverse("generate", args=[c.org.slug]), {"preset": "corporate-executive"})
    job = c.employee.jobs.get()
    assert started.url == reverse("job", args=[c.org.slug, job.pk])
    running = client.get(started.url).content.decode()
    assert "<progress" in running and "job.js" in running
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert client.get(reverse("job-status", args=[c.org.slug, job.pk])).json()["finished"]
    gallery = client.get(started.url).content.decode()
    links = MEDIA.findall(gallery)
    assert links and gallery.count("Pick this one") == job.headshots.filter(accepted=True).count()
    image = client.get(links[0])
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.content)).width <= 480
    best = job.headshots.get(rank=1)
    client.post(reverse("pick", args=[c.org.slug, best.pk]))
    best.refresh_from_db()
    assert best.status == HeadshotStatus.PICKED

    client.force_login(c.approver)
    queue = client.get(reverse("approval-queue", args=[c.org.slug])).content.decode()
    assert "Pat O&#x27;Brien" in queue and len(MEDIA.findall(queue)) == 2  # headshot and selfie
    for link in MEDIA.findall(queue):
        assert client.get(link).status_code == 200
    client.post(
        reverse("approval-queue", args=[c.org.slug]),
        {"action": "approve_selected", "selected": [str(best.pk)]},
    )
    best.refresh_from_db()
    assert best.status == HeadshotStatus.APPROVED and best.decided_by == c.approver

    client.force_login(c.employee_user)
    home = client.get(reverse("employee-home", args=[c.org.slug])).content.decode()
    assert "Your approved headshot" in home
    pack = client.get(reverse("my-export", args=[c.org.slug]))
    assert pack["Content-Type"] == "application/zip"
    assert any(
        n.endswith("-linkedin-400.jpg")
        for n in zipfile.ZipFile(io.BytesIO(pack.content)).namelist()
    )


def test_approver_rejects_with_a_reason_the_person_sees(finished, client):
    c, job = finished
    from apps.generation.services import headshot_pick

    best = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    client.force_login(c.approver)
    url = reverse("approval-queue", args=[c.org.slug])
    client.post(url, {"action": "reject", "headshot": best.pk, "reason": ""})
    best.refresh_from_db()
    assert best.status == HeadshotStatus.PICKED  # no reason, no rejection
    client.post(url, {"action": "reject", "headshot": best.pk, "reason": "Collar is crooked"})
    best.refresh_from_db()
    assert best.status == HeadshotStatus.REJECTED
    client.force_login(c.employee_user)
    gallery = client.get(reverse("job", args=[c.org.slug, job.pk])).content.decode()
    assert "Rejected: Collar is crooked" in gallery


def test_my_data_downloads_everything_then_deletes_it(ready, client, run_jobs):
    c = ready
    client.force_login(c.employee_user)
    url = reverse("my-data", args=[c.org.slug])
    answer = client.post(url, {"action": "download"})
    assert answer["Content-Disposition"] == 'attachment; filename="my-headshots-data.zip"'
    archive = zipfile.ZipFile(io.BytesIO(answer.getvalue()))  # sent as a stream
    data = json.loads(archive.read("data.json"))
    assert data["profile"]["email"] == c.employee.email and len(data["photos"]) == 4
    assert all(archive.read(p["file"])[:2] == b"\xff\xd8" for p in data["photos"])
    files = [p.normalised.name for p in Photo.objects.all()]
    client.post(url, {"action": "delete", "confirm": "nope"})
    assert Photo.objects.count() == 4
    client.post(url, {"action": "delete", "confirm": "DELETE"})
    release_on_commit_hooks()  # the files go once the deletion is committed
    assert not Photo.objects.filter(employee=c.employee).exists()
    assert not c.employee.consents.filter(withdrawn_at__isnull=True).exists()
    from django.core.files.storage import default_storage

    assert not any(default_storage.exists(name) for name in files)


# -- signed media links ----------------------------------------------------------------------------
def test_media_links_serve_only_their_user_and_expire(finished, client, settings):
    from apps.core.media import media_link

    c, job = finished
    headshot = job.headshots.first()
    link = media_link(kind="headshot", pk=headshot.pk, user=c.employee_user)
    client.force_login(c.employee_user)
    assert client.get(link).status_code == 200
    client.force_login(c.approver)  # allowed to see it, but the link is not theirs
    assert client.get(link).status_code == 404
    assert (
        client.get(media_link(kind="headshot", pk=headshot.pk, user=c.approver)).status_code == 200
    )
    client.logout()
    assert client.get(link).status_code == 404
    client.force_login(c.employee_user)
    assert client.get(link[:-3] + "abc").status_code == 404  # tampered
    import time
    from unittest import mock

    made_at = time.time() - settings.HEADSHOTS["MEDIA_LINK_TTL_S"] - 5
    with mock.patch("time.time", return_value=made_at):
        old = media_link(kind="headshot", pk=headshot.pk, user=c.employee_user)
    assert client.get(old).status_code == 404  # expired


def test_media_links_refuse_people_who_may_not_see_the_image(finished, client, db):
    from apps.core.media import media_link
    from apps.organizations.models import Membership, Role
    from tests.apps.factories import user

    c, job = finished
    headshot = job.headshots.first()
    selfie = Photo.objects.filter(employee=c.employee).first()
    colleague = user("sam@acme.example")
    Membership.objects.create(organization=c.org, user=colleague, role=Role.EMPLOYEE)
    outsider = company("Globex", "globex.example").hr
    for person in (colleague, outsider):
        client.force_login(person)
        for kind, pk in (
            ("headshot", headshot.pk),
            ("photo", selfie.pk),
            ("photo_marked", selfie.pk),
        ):
            assert client.get(media_link(kind=kind, pk=pk, user=person)).status_code == 404


# -- every company page, every outsider --------------------------------------------------------------
def _company_urls(org, objects: dict[str, int]):
    from headshots_portal.page_urls import urlpatterns

    for pattern in urlpatterns:
        route = str(pattern.pattern)
        args = [org.slug]
        if "<id:pk>" in route:
            args.append(objects[pattern.name])
        if "<slug:slug>" in route:
            args.append("corporate-executive")  # a preset every company has
        if "<slug:target>" in route:
            args.append("microsoft")  # a cloud directory's page
        yield pattern.name, reverse(pattern.name, args=args)


@pytest.mark.parametrize("method", ["get", "post"])
def test_company_pages_are_404_to_other_companies_and_send_strangers_to_sign_in(
    finished, client, method
):
    c, job = finished
    globex = company("Globex", "globex.example")
    photo = Photo.objects.filter(employee=c.employee).first()
    headshot = job.headshots.first()
    from apps.publishing.models import Publication, PublicationTarget

    card = Publication.objects.create(
        organization=c.org,
        employee=c.employee,
        headshot=headshot,
        target=PublicationTarget.BUSINESS_CARD,
        status="succeeded",
    )
    objects = {
        "photo-status": photo.pk,
        "photo-delete": photo.pk,
        "job": job.pk,
        "job-status": job.pk,
        "pick": headshot.pk,
        "publication-file": card.pk,
        "person": c.employee.pk,
    }
    for name, url in _company_urls(c.org, objects):
        client.logout()
        answer = getattr(client, method)(url)
        assert answer.status_code == 302 and "/accounts/login/" in answer.url, name
        for outsider in (globex.hr, globex.employee_user, globex.approver):
            client.force_login(outsider)
            assert getattr(client, method)(url).status_code == 404, (name, outsider)
    # nor through their own company's addresses: Acme's objects answer exactly as ids
    # that exist nowhere
    missing = dict.fromkeys(objects, 999_999)
    pairs = zip(_company_urls(globex.org, objects), _company_urls(globex.org, missing), strict=True)
    for (name, url), (_, nowhere) in pairs:
        if name not in objects:
            continue
        for outsider in (globex.hr, globex.employee_user, globex.approver):
            client.force_login(outsider)
            answer, control = getattr(client, method)(url), getattr(client, method)(nowhere)
            assert answer.status_code == control.status_code in {404, 405}, (name, outsider)
    # and an unknown company answers exactly the same
    client.force_login(globex.hr)
    assert client.get(reverse("hr-dashboard", args=["no-such-company"])).status_code == 404


def test_employee_pages_of_one_person_are_404_to_a_colleague(finished, client):
    from apps.organizations.models import EmployeeProfile, Membership, Role
    from tests.apps.factories import user

    c, job = finished
    colleague = user("sam@acme.example")
    Membership.objects.create(organization=c.org, user=colleague, role=Role.EMPLOYEE)
    EmployeeProfile.objects.create(
        organization=c.org, user=colleague, full_name="Sam", email="sam@acme.example"
    )
    client.force_login(colleague)
    photo = Photo.objects.filter(employee=c.employee).first()
    headshot = job.headshots.filter(accepted=True).first()
    assert client.get(reverse("job", args=[c.org.slug, job.pk])).status_code == 404
    assert client.get(reverse("job-status", args=[c.org.slug, job.pk])).status_code == 404
    assert client.get(reverse("photo-status", args=[c.org.slug, photo.pk])).status_code == 404
    client.post(reverse("pick", args=[c.org.slug, headshot.pk]))
    headshot.refresh_from_db()
    assert headshot.status == HeadshotStatus.CANDIDATE


def test_hr_pages_refuse_employees_and_approvers(acme, client):
    for name in (
        "hr-dashboard",
        "directory-settings",
        "card-settings",
        "card-preview",
        "presets",
        "consent-text",
        "fairness",
        "invitations",
        "roster",
        "retention",
        "audit",
        "audit-export",
    ):
        for person in (acme.employee_user, acme.approver):
            client.force_login(person)
            assert client.get(reverse(name, args=[acme.org.slug])).status_code == 403, name
    client.force_login(acme.employee_user)
    assert client.get(reverse("approval-queue", args=[acme.org.slug])).status_code == 403


def test_forms_need_the_csrf_token(acme):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(acme.hr)
    answer = strict.post(reverse("directory-test", args=[acme.org.slug]))
    assert answer.status_code == 403


# -- HR ----------------------------------------------------------------------------------------------
def test_dashboard_counts_people_by_state_and_shows_who_is_stuck(approved, client):
    c, headshot = approved
    from datetime import timedelta

    from django.utils import timezone

    from apps.organizations.models import EmployeeProfile

    waiting = EmployeeProfile.objects.create(
        organization=c.org, full_name="Una Waiting", email="una@acme.example"
    )
    EmployeeProfile.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    client.force_login(c.hr)
    page_ = client.get(reverse("hr-dashboard", args=[c.org.slug])).content.decode()
    by_label = {
        label: int(n) for n, label in re.findall(r'<span class="n">(\d+)</span>([^<]+)</a>', page_)
    }
    assert by_label["Approved"] == 1 and by_label["Invited"] == 1 and by_label["Published"] == 0
    stuck = page_.split('id="stuck-h"')[1].split("</table>")[0]
    assert "Una Waiting" in stuck and "Pat O" not in stuck
    only = client.get(
        reverse("hr-dashboard", args=[c.org.slug]), {"state": "approved"}
    ).content.decode()
    assert (
        "Pat O&#x27;Brien" in only.split('id="people-h"')[1]
        and "Una Waiting" not in only.split('id="people-h"')[1]
    )


def test_directory_settings_page_saves_tests_and_previews(directory, client):
    c, headshot, server = directory
    client.force_login(c.hr)
    url = reverse("directory-settings", args=[c.org.slug])
    form = client.get(url).content.decode()
    assert server.root_pw not in form and "Test connection" in form
    values = {
        "enabled": "on",
        "uri": "ldap://directory.acme.example",
        "bind_dn": server.root_dn,
        "bind_password": server.root_pw,
        "base_dn": f"ou=people,{server.suffix}",
        "user_filter": "(objectClass=inetOrgPerson)",
        "match_attribute": "mail",
        "match_field": "email",
        "photo_attribute": "thumbnailPhoto",
        "max_bytes": "500000",
        "max_side": "648",
    }
    refused = client.post(url, values).content.decode()  # clear text to a remote host
    assert "StartTLS" in refused
    client.post(url, {**values, "uri": server.ldap_uri})
    from apps.publishing.models import DirectoryConnection

    saved = DirectoryConnection.objects.get(organization=c.org)
    assert saved.uri == server.ldap_uri and saved.max_bytes == 102_400  # AD's limit kept
    tested = client.post(reverse("directory-test", args=[c.org.slug]), follow=True).content.decode()
    assert "base DN found" in tested
    preview = client.post(
        reverse("directory-dry-run", args=[c.org.slug]), follow=True
    ).content.decode()
    assert "send the photo: 1" in preview and "Pat O&#x27;Brien" in preview
    assert server.read(server.pat, "thumbnailPhoto") is None  # a dry run writes nothing
    # The password typed is stored encrypted and never shown back.
    assert server.root_pw not in saved.bind_password_sealed
    page = client.get(url).content.decode()
    assert server.root_pw not in page and "A bind password is stored" in page
    # Saved again without typing it: kept. Removed on request: the test says where to set it.
    client.post(url, {**values, "uri": server.ldap_uri, "bind_password": ""})
    saved.refresh_from_db()
    assert saved.bind_password_sealed
    client.post(
        url, {**values, "uri": server.ldap_uri, "bind_password": "", "forget_password": "on"}
    )
    broken = client.post(reverse("directory-test", args=[c.org.slug]), follow=True).content.decode()
    assert "HEADSHOTS_LDAP_SECRET__ACME" in broken and "No directory password" in broken


def test_card_settings_take_colours_a_logo_and_the_company_font(approved, client, tmp_path):
    import subprocess

    c, headshot = approved
    client.force_login(c.hr)
    url = reverse("card-settings", args=[c.org.slug])
    values = {
        "primary": "#0a7f3f",
        "background": "#ffffff",
        "text": "#111111",
        "muted": "#555555",
        "card_size": "eu",
        "font_name": "Acme Serif",
    }
    injected = client.post(
        url, {**values, "primary": "red; } @import url(http://evil/)"}
    ).content.decode()
    c.org.refresh_from_db()
    assert "colour is written" in injected and "primary" not in c.org.brand
    not_a_font = client.post(
        url, {**values, "font_regular": _file(b"\x89PNG\r\n\x1a\n" + b"0" * 64, "f.ttf")}
    )
    assert "TrueType" in not_a_font.content.decode()
    serif = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
    with open(serif, "rb") as handle:
        font = handle.read()
    client.post(url, {**values, "font_regular": _file(font, "AcmeSerif.ttf")})
    c.org.refresh_from_db()
    assert c.org.brand["primary"] == "#0a7f3f" and c.org.brand["font_regular"]
    preview = client.get(reverse("card-preview", args=[c.org.slug]))
    assert preview["Content-Type"] == "image/png"
    pixels = np.asarray(Image.open(io.BytesIO(preview.content)).convert("RGB"))
    assert tuple(pixels[pixels.shape[0] // 2, 3]) == (10, 127, 63)  # the band in the brand colour
    pdf = client.post(reverse("card-batch", args=[c.org.slug]), {"department": "R&D"})
    assert pdf["Content-Type"] == "application/pdf"
    path = tmp_path / "cards.pdf"
    path.write_bytes(pdf.content)
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "CardSans" in fonts and " no " not in fonts.split("CardSans")[1].split("\n")[0]
    assert "DejaVu Serif" in _embedded_font_names(pdf.content)  # the company's font, embedded
    size = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "257.953 x 172.913 pts" in size  # 85 x 55 mm with a 3 mm bleed on each side
    # Once a font is stored, saving again (without choosing a file) and removing the fonts
    # both work: the stored file's name is no upload.
    kept = client.post(url, {**values, "muted": "#444444"})
    assert kept.status_code == 302
    c.org.refresh_from_db()
    assert c.org.brand["muted"] == "#444444" and c.org.brand["font_regular"]
    removed = client.post(url, {**values, "remove_fonts": "on"})
    assert removed.status_code == 302
    c.org.refresh_from_db()
    assert not c.org.brand.get("font_regular")


def _embedded_font_names(pdf: bytes) -> set[str]:
    """The family names inside the font programs embedded in a PDF."""
    import zlib

    from fontTools.ttLib import TTFont

    names = set()
    for match in re.finditer(rb"stream\r?\n", pdf):
        start = match.end()
        end = pdf.find(b"endstream", start)
        try:
            data = zlib.decompress(pdf[start:end])
        except zlib.error:
            continue
        if data[:4] in {b"\x00\x01\x00\x00", b"true"}:
            font = TTFont(io.BytesIO(data))
            names.add(str(font["name"].getDebugName(1)))
    return names


def _file(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


# -- brand presets ---------------------------------------------------------------------------------
def test_preset_editor_previews_unsaved_changes_and_saves_versions(acme, client):
    from apps.presets.models import BrandPresetVersion

    client.force_login(acme.hr)
    index = client.get(reverse("presets", args=[acme.org.slug])).content.decode()
    assert "Corporate executive" in index
    edit = reverse("preset-edit", args=[acme.org.slug, "corporate-executive"])
    page_ = client.get(edit).content.decode()
    assert 'name="backdrop_color" value="#8a8f96"' in page_ and "slug: corporate-executive" in page_
    preview_url = reverse("preset-preview", args=[acme.org.slug, "corporate-executive"])
    values = {
        "editor": "form",
        "name": "Corporate executive",
        "description": "x",
        "attire": "navy suit",
        "backdrop_kind": "solid",
        "backdrop_color": "#0a7f3f",
        "backdrop_color_2": "",
        "key_direction": "left",
        "softness": "0.6",
        "color_temperature_k": "5400",
        "head_height_share": "0.42",
        "eye_line": "0.4",
        "retouch_strength": "0.25",
    }
    green = client.get(preview_url, {k: v for k, v in values.items() if k != "editor"})
    assert green.status_code == 200 and green["Content-Type"] == "image/jpeg"
    pixels = np.asarray(Image.open(io.BytesIO(green.content)).convert("RGB")).astype(int)
    corner = pixels[:20, :20].reshape(-1, 3).mean(axis=0)
    assert abs(corner - (10, 127, 63)).max() < 25  # the unsaved backdrop colour
    assert (
        BrandPresetVersion.objects.filter(
            preset__slug="corporate-executive", organization=acme.org
        ).count()
        == 1
    )
    bad = client.get(preview_url, {**values, "eye_line": "0.21", "head_height_share": "0.75"})
    assert bad.status_code == 400 and "head" in bad.json()["detail"]
    client.post(edit, values)
    versions = BrandPresetVersion.objects.filter(
        preset__slug="corporate-executive", organization=acme.org
    )
    latest = versions.order_by("-number").first()
    assert latest.spec["backdrop"] == {
        **latest.spec["backdrop"],
        "kind": "solid",
        "colors": ["#0a7f3f"],
    }
    assert latest.spec["attire"] == "navy suit"
    broken = client.post(
        edit, {"editor": "yaml", "spec": "slug: [unclosed"}, follow=True
    ).content.decode()
    assert "not valid YAML" in broken
    import yaml

    text = yaml.safe_dump({**latest.spec, "slug": "other"})
    renamed = client.post(edit, {"editor": "yaml", "spec": text}, follow=True).content.decode()
    assert "keeps its slug" in renamed
    text = yaml.safe_dump({**latest.spec, "attire": "grey suit"})
    client.post(edit, {"editor": "yaml", "spec": text})
    assert versions.order_by("-number").first().spec["attire"] == "grey suit"
    for person in (acme.employee_user, acme.approver):
        client.force_login(person)
        assert client.get(edit).status_code == 403 and client.get(preview_url).status_code == 403


# -- retention and the audit log ---------------------------------------------------------------------
def test_hr_changes_the_retention_schedule_people_are_shown(acme, client):
    client.force_login(acme.hr)
    url = reverse("retention", args=[acme.org.slug])
    too_long = client.post(
        url, {"retention_days": 5000, "leaver_retention_days": 0, "invitation_reminder_days": 3}
    )
    assert too_long.status_code == 200 and "errorlist" in too_long.content.decode()
    client.post(
        url, {"retention_days": 14, "leaver_retention_days": 7, "invitation_reminder_days": 2}
    )
    acme.org.refresh_from_db()
    assert (acme.org.retention_days, acme.org.leaver_retention_days) == (14, 7)
    client.force_login(acme.employee_user)
    consent = client.get(reverse("consent", args=[acme.org.slug])).content.decode()
    assert (
        "deleted 14 days after your headshot is approved" in consent
        and "7 days after you leave" in consent
    )
    from apps.audit.models import AuditEvent

    event = AuditEvent.objects.get(action="retention.changed")
    assert event.data["after"]["retention_days"] == 14


def test_audit_log_filters_verifies_and_exports(approved, client):
    c, headshot = approved
    client.force_login(c.hr)
    url = reverse("audit", args=[c.org.slug])
    page_ = client.get(url).content.decode()
    assert "Chain intact" in page_ and "Headshot approved" in page_
    only = client.get(url, {"action": "headshot.picked"}).content.decode()
    table = only.split("<tbody>")[1].split("</tbody>")[0]
    assert "Headshot picked" in table and "Headshot approved" not in table
    nobody = client.get(url, {"actor": "no such person"}).content.decode()
    assert "No event matches" in nobody
    future = client.get(url, {"since": "2999-01-01"}).content.decode()
    assert "No event matches" in future
    export = client.get(reverse("audit-export", args=[c.org.slug]))
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert [json.loads(line)["sequence"] for line in lines] == list(range(1, len(lines) + 1))
    client.force_login(c.approver)
    assert client.get(url).status_code == 403


def test_a_dark_photo_comes_back_with_the_dark_areas_marked(acme, client, selfies, run_jobs):
    original = np.asarray(Image.open(io.BytesIO(selfies["selfie-01.png"])).convert("RGB"))
    dark = io.BytesIO()
    Image.fromarray((original * 0.22).astype(np.uint8)).save(dark, format="JPEG", quality=95)
    client.force_login(acme.employee_user)
    url = reverse("photo-upload", args=[acme.org.slug])
    dim = client.post(url, {"photo": _file(dark.getvalue(), "dark.jpg")}).json()
    fine = client.post(url, {"photo": _file(selfies["selfie-01.png"], "fine.png")}).json()
    run_jobs()

    def marked_share(photo_id: int) -> tuple[float, dict]:
        """How much of the picture the marking changed, against the plain stored copy."""
        from apps.core.media import media_link

        status = client.get(reverse("photo-status", args=[acme.org.slug, photo_id])).json()
        marked = client.get(status["marked_url"]).content
        plain = client.get(
            media_link(kind="photo", pk=photo_id, user=acme.employee_user, width=320)
        ).content
        a, b = (
            np.asarray(Image.open(io.BytesIO(x)).convert("RGB")).astype(int)
            for x in (marked, plain)
        )
        return float((np.abs(a - b).max(axis=2) > 40).mean()), status

    share, status = marked_share(dim["id"])
    assert any(p["code"] == "exposure" for p in status["problems"])
    assert share > 0.2  # the dark areas are tinted
    untouched, status = marked_share(fine["id"])
    assert not any(p["code"] == "exposure" for p in status["problems"])
    assert untouched < 0.02  # only the face box was drawn


def test_counts_agree_with_their_nouns():
    from apps.core.text import counted

    assert counted(1, "headshot") == "1 headshot" and counted(2, "headshot") == "2 headshots"
    assert (
        counted(1, "person", "people") == "1 person"
        and counted(0, "person", "people") == "0 people"
    )


def test_error_pages_speak_plainly_in_the_portals_look(acme, client):
    from django.template.loader import render_to_string

    client.force_login(acme.employee_user)
    missing = client.get("/o/acme/nothing-here/")
    page = missing.content.decode()
    assert missing.status_code == 404 and "This page is not here" in page
    assert "portal/portal.css" in page and "favicon.svg" in page
    forbidden = client.get(reverse("hr-dashboard", args=[acme.org.slug]))
    page = forbidden.content.decode()
    assert forbidden.status_code == 403 and "You cannot open this page" in page
    assert "Your role in this company does not allow this page." in page
    broken = render_to_string("500.html")
    assert "Something went wrong on our side" in broken and "portal/portal.css" in broken
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301 and icon.url.endswith("portal/favicon.svg")


def test_a_stale_form_gets_a_page_that_says_to_try_again(acme):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(acme.hr)
    answer = strict.post(reverse("invitations", args=[acme.org.slug]), {"action": "invite"})
    assert answer.status_code == 403 and "Please try again" in answer.content.decode()


def test_audit_and_approvals_speak_words_not_field_names(finished, client):
    from apps.generation.services import headshot_pick

    c, job = finished
    headshot_pick(organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1))
    client.force_login(c.hr)
    audit = client.get(reverse("audit", args=[c.org.slug])).content.decode()
    assert "Invitation sent" in audit and "Email: pat@acme.example" in audit
    assert '<td class="optional">Invitation ' in audit  # what it was about, in words
    assert "organizations.invitation" not in audit and "presets.brandpresetversion" not in audit
    assert "invitation.created</td>" not in audit and "{&#x27;" not in audit
    approvals = client.get(reverse("approval-queue", args=[c.org.slug])).content.decode()
    assert "Looks like them (face model, 0 to 1)" in approvals
    assert "skin_delta_e" not in approvals and "Skin tone change" in approvals


def test_a_directory_problem_keeps_its_capitals(acme):
    from apps.core.errors import ValidationFailed
    from apps.publishing.directory_sync import directory_connection_save

    values = {
        "uri": "ldap://directory.acme.example",
        "start_tls": False,
        "bind_dn": "cn=portal,dc=acme",
        "base_dn": "dc=acme",
    }
    with pytest.raises(ValidationFailed) as caught:
        directory_connection_save(organization=acme.org, actor=acme.hr, values=values)
    assert caught.value.message.startswith("An ldap:// address needs StartTLS")
    with pytest.raises(ValidationFailed) as caught:
        directory_connection_save(
            organization=acme.org,
            actor=acme.hr,
            values={**values, "start_tls": True, "max_side": -5},
        )
    assert caught.value.message.startswith("Largest photo side (pixels): ")
