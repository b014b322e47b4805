from __future__ import annotations

import base64
import io
import subprocess

import pytest
from PIL import Image

from apps.audit.models import AuditEvent
from apps.core.errors import PermissionDenied, StateConflict
from apps.core.storage import private_read
from apps.generation.services import headshot_pick
from apps.publishing.cards import CardPerson, render_card_pdf, vcard
from apps.publishing.directory import person_dn
from apps.publishing.models import PublicationStatus, PublicationTarget
from apps.publishing.services import publication_request

pytestmark = pytest.mark.django_db


def test_no_publication_of_a_headshot_that_was_not_approved(finished):
    c, job = finished
    best = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    with pytest.raises(StateConflict, match="only an approved headshot"):
        publication_request(
            organization=c.org, actor=c.hr, headshot=best, target=PublicationTarget.BUSINESS_CARD
        )


def test_employee_cannot_publish(approved):
    c, headshot = approved
    with pytest.raises(PermissionDenied):
        publication_request(
            organization=c.org,
            actor=c.employee_user,
            headshot=headshot,
            target=PublicationTarget.BUSINESS_CARD,
        )


def test_business_card_is_a_real_pdf_with_the_headshot(approved, run_jobs, tmp_path):
    c, headshot = approved
    publication = publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.BUSINESS_CARD
    )
    run_jobs()
    publication.refresh_from_db()
    assert publication.status == PublicationStatus.SUCCEEDED and publication.content_hash
    pdf = tmp_path / "card.pdf"
    pdf.write_bytes(private_read(publication.artifact.name))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           2" in info and "252 x 144 pts" in info  # 3.5 x 2 in, front and back
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # every font embedded
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    front = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    photo_area = front.crop((40, 40, 130, 150))  # where the headshot sits
    assert photo_area.getextrema()[1] - photo_area.getextrema()[0] > 80  # not blank
    assert (
        AuditEvent.objects.filter(action="publication.published", organization=c.org).count() == 1
    )


def test_the_directory_export_follows_the_one_directory_configuration(approved, run_jobs, tmp_path):
    from apps.publishing.models import DirectoryConnection

    c, headshot = approved
    c.employee.directory_uid = "pat,o'brien+sales"
    c.employee.save()
    refused = publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.DIRECTORY_EXPORT
    )
    run_jobs()  # a setting HR must change: recorded, not retried
    refused.refresh_from_db()
    assert refused.status == PublicationStatus.FAILED and "directory first" in refused.last_error
    DirectoryConnection.objects.create(
        organization=c.org,
        uri="ldaps://directory.acme.example",
        bind_dn="cn=portal,dc=acme,dc=example",
        base_dn="ou=people,dc=acme,dc=example",
        match_attribute="uid",
        match_field="directory_uid",
        max_side=512,
    )
    publication = publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.DIRECTORY_EXPORT
    )
    run_jobs()
    publication.refresh_from_db()
    assert publication.external_id == r"uid=pat\,o'brien\+sales,ou=people,dc=acme,dc=example"
    ldif = private_read(publication.artifact.name).decode()
    assert "replace: jpegPhoto" in ldif
    encoded = "".join(
        line[1:] if line.startswith(" ") else line.split(":: ", 1)[1]
        for line in ldif.splitlines()
        if line.startswith(("jpegPhoto::", " "))
    )
    photo = Image.open(io.BytesIO(base64.b64decode(encoded)))
    assert photo.format == "JPEG" and photo.size == (512, 512)
    assert ldif.startswith("version: 1\n\n")  # RFC 2849
    # OpenLDAP's own tool reads it as one change, without a server (-n)
    import shutil
    import subprocess

    if shutil.which("ldapmodify") is None:
        pytest.skip("ldap-utils is not installed (make test installs it)")
    path = tmp_path / "export.ldif"
    path.write_text(ldif)
    checked = subprocess.run(
        ["ldapmodify", "-n", "-f", str(path), "-H", "ldap://127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert checked.returncode == 0, checked.stderr
    assert "modifying entry \"uid=pat\\,o'brien\\+sales" in checked.stdout


def test_second_run_writes_nothing_unless_something_changed(approved, run_jobs):
    c, headshot = approved
    run_jobs()  # the print version, made once the person picked
    publication = publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.BUSINESS_CARD
    )
    run_jobs()
    publication.refresh_from_db()
    first = (publication.artifact.name, publication.content_hash, publication.published_at)
    publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.BUSINESS_CARD
    )
    run_jobs()
    publication.refresh_from_db()
    assert (publication.artifact.name, publication.content_hash, publication.published_at) == first
    c.employee.title = "Principal Engineer"
    c.employee.save()
    publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.BUSINESS_CARD
    )
    run_jobs()
    publication.refresh_from_db()
    assert publication.content_hash != first[1] and publication.artifact.name != first[0]


def test_dn_escaping_defuses_injection():
    dn = person_dn(
        rdn_attribute="uid", rdn_value="x,ou=admins,dc=evil", base_dn="ou=people,dc=acme"
    )
    assert dn == r"uid=x\,ou\=admins\,dc\=evil,ou=people,dc=acme"
    with pytest.raises(ValueError):
        person_dn(rdn_attribute="uid", rdn_value="", base_dn="ou=people,dc=acme")


def test_vcard_escapes_special_characters():
    card = vcard(
        CardPerson("O'Brien, Jr. (Sales)*", "Lead; QA", "", "ob@acme.example", ""), "Acme, Inc."
    )
    assert (
        "FN:O'Brien\\, Jr. (Sales)*" in card
        and "TITLE:Lead\\; QA" in card
        and "ORG:Acme\\, Inc." in card
    )


def test_no_character_of_a_value_starts_a_vcard_field():
    """A bare CR (or LF, or both) in a name would end the line and start a field of the
    attacker's choosing in the card's QR code."""
    for breaker in ("\r", "\n", "\r\n", "\x0b", "\x00"):
        card = vcard(
            CardPerson(f"Pat{breaker}URL:https://evil.example", "T", "", "p@acme.example", ""),
            "Acme",
        )
        lines = card.split("\r\n")
        assert [line.split(":", 1)[0] for line in lines] == [
            "BEGIN",
            "VERSION",
            "N",
            "FN",
            "ORG",
            "TITLE",
            "EMAIL;TYPE=work",
            "END",
            "",
        ], breaker
        assert not any("\r" in line or "\n" in line or "\x0b" in line for line in lines)


def test_card_renders_eu_size(astronaut_rgb):
    from tests.conftest import to_jpeg

    pdf = render_card_pdf(
        person=CardPerson("Zoë Ångström", "CTO", "Board", "z@acme.example", "+46 8 123"),
        company="Acme",
        photo_jpeg=to_jpeg(astronaut_rgb),
        size="eu",
    )
    assert pdf.startswith(b"%PDF")
    with pytest.raises(ValueError):
        render_card_pdf(
            person=CardPerson("A", "", "", "a@b.c", ""), company="A", photo_jpeg=b"", size="a4"
        )


def test_directory_photos_are_not_requested_one_by_one(approved):
    from apps.core.errors import ValidationFailed

    c, headshot = approved
    with pytest.raises(ValidationFailed, match="directory sync"):
        publication_request(
            organization=c.org,
            actor=c.hr,
            headshot=headshot,
            target=PublicationTarget.DIRECTORY_LDAP,
        )


def test_a_card_carries_the_companys_ai_mark_and_brand(approved, run_jobs, tmp_path):
    """HR's card settings reach the published card: its colour and the small mark under
    the photo in the company's words (and no mark where the company set none)."""
    from apps.organizations.services import brand_update

    c, headshot = approved
    brand_update(
        organization=c.org,
        actor=c.hr,
        changes={"primary": "#0a7f3f", "ai_mark": "Photo edited with AI"},
    )
    card = publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.BUSINESS_CARD
    )
    run_jobs()
    card.refresh_from_db()
    path = tmp_path / "card.pdf"
    path.write_bytes(private_read(card.artifact.name))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Photo edited with AI" in text
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")],
        check=True,
    )
    front = Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")
    assert front.getpixel((2, front.height // 2)) == (
        10,
        127,
        63,
    )  # the band, in the company's colour
    brand_update(organization=c.org, actor=c.hr, changes={"ai_mark": ""})
    card = publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.BUSINESS_CARD
    )
    run_jobs()
    card.refresh_from_db()
    path.write_bytes(private_read(card.artifact.name))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "edited with AI" not in text
