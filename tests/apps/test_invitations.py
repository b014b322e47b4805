"""Invitations by e-mail, reminders, invite links and the roster import."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.organizations.invitations import invitation_reminders_send, invite_link_create
from apps.organizations.models import EmployeeProfile, EmployeeStatus, Invitation, Membership
from apps.organizations.roster import roster_check
from tests.apps.factories import user

LINK = re.compile(r"http://[^\s]+/invite/([^/\s]+)/")


def invite(client, c, email="ana@acme.example", name="Ana García"):
    client.force_login(c.hr)
    return client.post(
        reverse("invitations", args=[c.org.slug]),
        {"action": "invite", "full_name": name, "email": email, "role": "employee"},
    )


def test_an_invited_person_signs_in_and_joins(
    acme, client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, acme)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ana@acme.example"]
    token = LINK.search(mailoutbox[0].body).group(1)
    ana = user("ana@acme.example")
    client.force_login(ana)
    answer = client.get(reverse("invitation", args=[token]))
    assert answer.status_code == 302 and answer.url == reverse(
        "employee-home", args=[acme.org.slug]
    )
    employee = EmployeeProfile.objects.get(email="ana@acme.example")
    assert employee.user == ana and employee.status == EmployeeStatus.ACTIVE
    assert Membership.objects.filter(organization=acme.org, user=ana, role="employee").exists()
    again = client.get(reverse("invitation", args=[token]))
    assert again.status_code == 409 and "already been used" in again.content.decode()
    client.force_login(user("eve@acme.example"))  # someone else with the link
    assert client.get(reverse("invitation", args=["made-up"])).status_code == 404


def test_resend_and_revoke_end_the_old_link(
    acme, client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, acme)
    first = LINK.search(mailoutbox[0].body).group(1)
    invitation = Invitation.objects.get(email="ana@acme.example", revoked_at__isnull=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("invitations", args=[acme.org.slug]),
            {"action": "resend", "invitation": invitation.pk},
        )
    second = LINK.search(mailoutbox[1].body).group(1)
    assert first != second
    ana = user("ana@acme.example")
    client.force_login(ana)
    assert client.get(reverse("invitation", args=[first])).status_code == 404
    client.force_login(acme.hr)
    current = Invitation.objects.get(email="ana@acme.example", revoked_at__isnull=True)
    client.post(
        reverse("invitations", args=[acme.org.slug]), {"action": "revoke", "invitation": current.pk}
    )
    client.force_login(ana)
    assert client.get(reverse("invitation", args=[second])).status_code == 404


def test_another_company_cannot_touch_the_invitations(
    acme, globex, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, acme)
    invitation = Invitation.objects.get(email="ana@acme.example")
    client.force_login(globex.hr)
    answer = client.post(
        reverse("invitations", args=[globex.org.slug]),
        {"action": "revoke", "invitation": invitation.pk},
    )
    assert answer.status_code == 404
    assert (
        client.post(
            reverse("invitations", args=[acme.org.slug]),
            {"action": "revoke", "invitation": invitation.pk},
        ).status_code
        == 404
    )
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_one_reminder_after_the_companys_delay(
    acme, client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, acme)
    assert invitation_reminders_send() == 0  # too early
    Invitation.objects.update(created_at=timezone.now() - timedelta(days=4))
    with django_capture_on_commit_callbacks(execute=True):
        assert invitation_reminders_send() == 1
    assert mailoutbox[-1].subject.startswith("Reminder") and len(mailoutbox) == 2
    token = LINK.search(mailoutbox[-1].body).group(1)
    assert invitation_reminders_send() == 0  # once only
    client.force_login(user("ana@acme.example"))
    assert client.get(reverse("invitation", args=[token])).status_code == 302


def test_invite_links_admit_the_companys_domains_up_to_their_cap(acme, client):
    link, token = invite_link_create(organization=acme.org, actor=acme.hr, max_uses=2, days=7)
    url = reverse("join", args=[token])
    client.force_login(user("outsider@gmail.example"))
    assert client.get(url).status_code == 403
    for email in ("one@acme.example", "two@acme.example"):
        client.force_login(user(email))
        assert client.get(url).status_code == 302
    client.force_login(user("three@acme.example"))
    full = client.get(url)
    assert full.status_code == 409 and "as many times" in full.content.decode()
    link.refresh_from_db()
    assert link.uses == 2
    assert (
        EmployeeProfile.objects.filter(
            organization=acme.org,
            status=EmployeeStatus.ACTIVE,
            email__in=["one@acme.example", "two@acme.example"],
        ).count()
        == 2
    )
    _, later = invite_link_create(organization=acme.org, actor=acme.hr, max_uses=5, days=1)
    from apps.organizations.models import InviteLink

    InviteLink.objects.filter(uses=0).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(reverse("join", args=[later])).status_code == 409


ROSTER = (
    "\ufeffname;email;title;department;phone;manager\n"
    "Ana García;ana@acme.example;Counsel;Legal;+34 600;boss@acme.example\n"
    "Bo Li;bo@acme.example;Engineer;R&D;;\n"
    "Bo Again;BO@acme.example;Engineer;R&D;;\n"
    "No Email;;;;;\n"
    "Eve Out;eve@elsewhere.example;;;;\n"
    "Pat O'Brien;pat@acme.example;Staff Engineer;R&D;;\n"
    ";;;;;\n"
)


def test_roster_is_checked_row_by_row_before_anything_is_created(
    acme, client, mailoutbox, django_capture_on_commit_callbacks
):
    report = roster_check(organization=acme.org, content=ROSTER.encode())
    verdicts = {row.line: (row.action, "; ".join(row.problems)) for row in report.rows}
    assert verdicts[2][0] == "invite" and verdicts[3][0] == "invite"
    assert verdicts[4] == ("error", "the same email as line 3")
    assert verdicts[5][0] == "error" and "not an email" in verdicts[5][1]
    assert verdicts[6][0] == "error" and "outside" in verdicts[6][1]
    assert verdicts[7][0] == "update"  # Pat exists; the title changes
    assert not Invitation.objects.filter(email="ana@acme.example").exists()
    client.force_login(acme.hr)
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = client.post(
        reverse("roster", args=[acme.org.slug]),
        {"roster": SimpleUploadedFile("r.csv", ROSTER.encode())},
    )
    text = page.content.decode()
    assert "3 rows ready, 3 with problems" in text and "the same email as line 3" in text
    assert not EmployeeProfile.objects.filter(email="ana@acme.example").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("roster", args=[acme.org.slug]), {"action": "import"})
    assert {m.to[0] for m in mailoutbox} == {"ana@acme.example", "bo@acme.example"}
    assert (
        EmployeeProfile.objects.get(email="ana@acme.example").manager_email == "boss@acme.example"
    )
    assert EmployeeProfile.objects.get(email="pat@acme.example").title == "Staff Engineer"
    assert not EmployeeProfile.objects.filter(email="eve@elsewhere.example").exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"nom,courriel\nAna,ana@acme.example\n", "missing: name, email"),
        ("name,email\nAna,ana@acme.example\n".encode("utf-16"), "UTF-8"),
        (b"name,email\n", "no rows"),
    ],
)
def test_a_roster_that_cannot_be_read_says_why(acme, content, problem):
    report = roster_check(organization=acme.org, content=content)
    assert any(problem in p for p in report.problems) and not report.rows
