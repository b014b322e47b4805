"""HR's directory sync, through the services, against a real slapd started by the test."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.core.errors import ValidationFailed
from apps.organizations.models import EmployeeStatus
from apps.publishing.directory_sync import directory_connection_test, directory_sync
from apps.publishing.models import (
    Publication,
    PublicationStatus,
    PublicationTarget,
)
from tests.ldap.server import Directory

pytestmark = pytest.mark.skipif(
    Directory.SCHEMADIR is None, reason="OpenLDAP's slapd is not installed (make test installs it)"
)


def publication(c) -> Publication:
    return Publication.objects.get(employee=c.employee, target=PublicationTarget.DIRECTORY_LDAP)


def test_dry_run_then_sync_then_nothing_to_do(directory):
    c, headshot, server = directory
    assert "base DN found" in directory_connection_test(organization=c.org)
    preview = directory_sync(organization=c.org, dry_run=True)
    assert preview["counts"] == {"write": 1} and server.read(server.pat, "thumbnailPhoto") is None
    assert not Publication.objects.filter(target=PublicationTarget.DIRECTORY_LDAP).exists()
    report = directory_sync(organization=c.org, dry_run=False)
    assert report["counts"] == {"write": 1}
    photo = server.read(server.pat, "thumbnailPhoto")
    assert photo is not None and len(photo) <= 102_400 and photo[:2] == b"\xff\xd8"
    # the label of what made it stays on the directory's photo, within AD's limit
    import io

    from PIL import Image

    from pipeline.provenance import COMPOSITE_SYNTHETIC, read_digital_source_type

    xmp = Image.open(io.BytesIO(photo)).info.get("xmp")
    assert xmp and read_digital_source_type(xmp) == COMPOSITE_SYNTHETIC
    row = publication(c)
    assert row.status == PublicationStatus.SUCCEEDED and row.headshot == headshot
    assert row.external_id.startswith("cn=Pat O'Brien,") and row.content_hash
    assert directory_sync(organization=c.org, dry_run=False)["counts"] == {"unchanged": 1}
    assert AuditEvent.objects.filter(action="directory.synced").count() == 2


def test_a_person_who_leaves_has_their_photo_removed(directory):
    c, _, server = directory
    directory_sync(organization=c.org, dry_run=False)
    c.employee.status = EmployeeStatus.LEFT
    c.employee.save(update_fields=["status"])
    assert directory_sync(organization=c.org, dry_run=False)["counts"] == {"remove": 1}
    assert server.read(server.pat, "thumbnailPhoto") is None
    assert publication(c).status == PublicationStatus.WITHDRAWN


def test_the_password_is_the_companys_own_and_its_absence_says_where_to_set_it(
    directory, monkeypatch
):
    c, _, server = directory
    from apps.publishing.models import DirectoryConnection

    DirectoryConnection.objects.filter(organization=c.org).update(bind_password_sealed="")
    with pytest.raises(ValidationFailed, match="HEADSHOTS_LDAP_SECRET__ACME"):
        directory_sync(organization=c.org, dry_run=True)
    # The operator's variable in the company's namespace is read...
    monkeypatch.setenv("HEADSHOTS_LDAP_SECRET__ACME", server.root_pw)
    assert directory_sync(organization=c.org, dry_run=True)["counts"] == {"write": 1}
    # ...and another company's is not.
    monkeypatch.delenv("HEADSHOTS_LDAP_SECRET__ACME")
    monkeypatch.setenv("HEADSHOTS_LDAP_SECRET__GLOBEX", server.root_pw)
    with pytest.raises(ValidationFailed, match="No directory password"):
        directory_sync(organization=c.org, dry_run=True)


def test_a_person_missing_from_the_directory_is_reported(directory):
    c, _, _ = directory
    c.employee.email = "someone-else@acme.example"
    c.employee.save(update_fields=["email"])
    assert directory_sync(organization=c.org, dry_run=False)["counts"] == {"not_found": 1}
    row = publication(c)
    assert (
        row.status == PublicationStatus.FAILED
        and "mail=someone-else@acme.example" in row.last_error
    )


def test_an_unchanged_rerun_makes_no_photo_and_writes_nothing(directory, monkeypatch):
    """The photo sent is known by its hash: a re-run compares the directory's photo with
    it and makes a photo again only when somebody changed the directory's."""
    import ldap
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.publishing import directory_sync as module

    c, _, server = directory
    directory_sync(organization=c.org, dry_run=False)
    sent = server.read(server.pat, "thumbnailPhoto")
    made = []
    real = module.directory_photo
    monkeypatch.setattr(module, "directory_photo", lambda *a, **k: made.append(1) or real(*a, **k))
    with CaptureQueriesContext(connection) as queries:
        again = directory_sync(organization=c.org, dry_run=False)
    assert again["counts"] == {"unchanged": 1} and made == []
    assert not [
        q
        for q in queries
        if q["sql"].startswith(("UPDATE", "INSERT")) and "publishing_publication" in q["sql"]
    ]
    # somebody puts another photo into the directory: the next sync puts the headshot back
    conn = server.connect()
    conn.modify_s(server.pat, [(ldap.MOD_REPLACE, "thumbnailPhoto", [b"\xff\xd8 not ours"])])
    conn.unbind_s()
    assert directory_sync(organization=c.org, dry_run=False)["counts"] == {"write": 1}
    assert made == [1] and server.read(server.pat, "thumbnailPhoto") == sent
