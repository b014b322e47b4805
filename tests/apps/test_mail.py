"""Mail that arrives: sent over SMTP to a real server the tests start, as plain text and
HTML in the company's colour, every link on the portal's public address; one-time
sign-in links; joining from an invitation without single sign-on; the notifications
people expect, each optional one switchable on the person's mail settings page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.organizations.models import EmployeeProfile, IdentityProvider, Membership
from apps.organizations.signin_links import signin_link_make, signin_link_user
from tests.conftest import Inbox

pytestmark = pytest.mark.django_db
PUBLIC = "https://headshots.acme.example"
LINK = re.compile(r"https://headshots\.acme\.example(/[^\s\"<]+)")


@pytest.fixture
def public(settings):
    settings.HEADSHOTS_PUBLIC_URL = PUBLIC


def invite(client, c, email="ana@acme.example", name="Ana García"):
    client.force_login(c.hr)
    return client.post(
        reverse("invitations", args=[c.org.slug]),
        {"action": "invite", "full_name": name, "email": email, "role": "employee"},
    )


def link_in(message) -> str:
    text, _ = Inbox.parts(message)
    return LINK.search(text).group(1)


def test_an_invitation_arrives_over_smtp_as_text_and_html_in_the_companys_colour(
    acme, client, smtp_inbox, public, django_capture_on_commit_callbacks
):
    acme.org.brand = {"primary": "#0a7b5c"}
    acme.org.save()
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, acme)
    (message,) = smtp_inbox.to("ana@acme.example")
    assert message["Subject"] == "Acme invites you to make your professional headshot"
    text, html = Inbox.parts(message)
    assert "Hello Ana García" in text and "no password is needed" in text
    assert f"{PUBLIC}/invite/" in text and f'href="{PUBLIC}/invite/' in html
    assert "#0a7b5c" in html and "Make my headshot" in html
    assert "127.0.0.1" not in text + html


def test_without_single_sign_on_the_invitation_link_signs_the_person_in(
    acme, client, smtp_inbox, public, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, acme)
    path = link_in(smtp_inbox.to("ana@acme.example")[0])
    client.logout()
    page = client.get(path)
    assert page.status_code == 200 and "Join and continue" in page.content.decode()
    assert not EmployeeProfile.objects.get(email="ana@acme.example").user  # a GET joins nobody
    joined = client.post(path)
    assert joined.status_code == 302
    assert joined.url == reverse("employee-home", args=[acme.org.slug])
    assert client.get(joined.url).status_code == 200  # signed in, at home
    employee = EmployeeProfile.objects.get(email="ana@acme.example")
    assert employee.user.email == "ana@acme.example" and not employee.user.has_usable_password()
    client.logout()
    again = client.post(path)
    assert again.status_code == 409 and "already been used" in again.content.decode()


def test_with_single_sign_on_the_company_account_comes_first(
    acme, client, smtp_inbox, public, django_capture_on_commit_callbacks
):
    IdentityProvider.objects.create(
        organization=acme.org, issuer="https://id.acme.example", client_id="portal"
    )
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, acme)
    message = smtp_inbox.to("ana@acme.example")[0]
    assert "You will sign in with your company account" in Inbox.parts(message)[0]
    path = link_in(message)
    client.logout()
    answer = client.post(path)
    assert answer.status_code == 302 and answer.url.startswith(reverse("login"))
    assert not EmployeeProfile.objects.get(email="ana@acme.example").user


def test_an_account_without_an_address_takes_the_invitations(acme, client, public):
    from django.contrib.auth import get_user_model

    from apps.organizations.services import invitation_create

    admin = get_user_model().objects.create_superuser("admin", "", "a-long-password-1")
    _, token = invitation_create(
        organization=acme.org, invited_by=acme.hr, email="boss@acme.example", full_name="Bo Ss"
    )
    client.force_login(admin)
    answer = client.get(reverse("invitation", args=[token]))
    assert answer.status_code == 302
    admin.refresh_from_db()
    assert admin.email == "boss@acme.example"
    assert Membership.objects.filter(organization=acme.org, user=admin).exists()


def test_someone_else_signed_in_is_told_whose_invitation_it_is(acme, client):
    from apps.organizations.services import invitation_create

    _, token = invitation_create(
        organization=acme.org, invited_by=acme.hr, email="ana@acme.example", full_name="Ana"
    )
    client.force_login(acme.approver)
    answer = client.get(reverse("invitation", args=[token]))
    page = answer.content.decode()
    assert answer.status_code == 403
    assert "sent to ana@acme.example" in page and "approver@acme.example" in page


def test_a_sign_in_link_works_once_and_not_after_half_an_hour(acme, client, public, monkeypatch):
    url = signin_link_make(acme.employee_user)
    path = url.removeprefix(PUBLIC)
    assert url.startswith(PUBLIC)
    confirm = client.get(path)
    assert confirm.status_code == 200 and "pat@acme.example" in confirm.content.decode()
    assert client.post(path).status_code == 302
    assert client.get(reverse("employee-home", args=[acme.org.slug])).status_code == 200
    client.logout()
    used = client.post(path)
    assert used.status_code == 410 and "has been used" in used.content.decode()
    token = signin_link_make(acme.hr).rstrip("/").rsplit("/", 1)[1]
    assert signin_link_user(token) == acme.hr
    import time

    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 31 * 60)
    assert signin_link_user(token) is None
    assert signin_link_user(token[:-2] + "xx") is None  # a changed signature


def test_the_sign_in_page_mails_a_link_to_people_without_single_sign_on(
    acme, client, smtp_inbox, public
):
    page = client.post(reverse("login"), {"email": "pat@acme.example"}, follow=True)
    assert "We have sent a sign-in link to pat@acme.example" in page.content.decode()
    (message,) = smtp_inbox.to("pat@acme.example")
    assert message["Subject"] == "Your sign-in link for Acme"
    path = link_in(message)
    assert client.post(path).status_code == 302
    assert client.get(reverse("employee-home", args=[acme.org.slug])).status_code == 200
    # nobody's address: no mail, and the page says to check it
    client.logout()
    page = client.post(reverse("login"), {"email": "nobody@acme.example"}, follow=True)
    assert "Check the address" in page.content.decode()
    assert not smtp_inbox.to("nobody@acme.example")


def test_a_person_is_told_their_headshots_are_ready_unless_they_turned_it_off(
    ready, run_jobs, smtp_inbox, public, client
):
    from tests.apps.factories import start_job

    start_job(ready)
    run_jobs()
    (message,) = smtp_inbox.to("pat@acme.example")
    assert message["Subject"] == "Your headshots are ready to pick"
    text, html = Inbox.parts(message)
    assert "to choose from" in text and f"{PUBLIC}/o/{ready.org.slug}/me/jobs/" in text
    assert f"{PUBLIC}/o/{ready.org.slug}/me/mail/" in text + html  # where to turn it off
    assert "turn this kind of mail off on your mail settings page" in text  # in both versions
    # the person turns this mail off on their settings page
    client.force_login(ready.employee_user)
    settings_page = client.get(reverse("mail-settings", args=[ready.org.slug]))
    assert "When your headshots are ready to pick" in settings_page.content.decode()
    client.post(reverse("mail-settings", args=[ready.org.slug]), {"on": ["decision", "published"]})
    membership = Membership.objects.get(organization=ready.org, user=ready.employee_user)
    assert membership.mail_off == ["ready"]
    start_job(ready)
    run_jobs()
    assert len(smtp_inbox.to("pat@acme.example")) == 1


def test_the_decision_reaches_the_person_with_hrs_reason(
    finished, smtp_inbox, public, django_capture_on_commit_callbacks
):
    from apps.generation.services import headshot_pick, headshot_reject

    c, job = finished
    smtp_inbox.messages.clear()
    best = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        headshot_reject(
            organization=c.org, actor=c.hr, headshot=best, reason="Please smile a little more."
        )
    (message,) = smtp_inbox.to("pat@acme.example")
    assert message["Subject"] == "Your headshot was sent back, with HR's reason"
    text, html = Inbox.parts(message)
    assert "Please smile a little more." in text and "Please smile a little more." in html


def test_an_approval_reaches_the_person(approved, smtp_inbox, public, run_jobs):
    run_jobs()  # the approval's on-commit hooks
    messages = smtp_inbox.to("pat@acme.example")
    assert [m["Subject"] for m in messages][-1] == "Your headshot is approved"


def test_approvers_get_one_mail_an_hour_listing_what_waits(finished, smtp_inbox, public, run_jobs):
    from apps.generation.notifications import approval_mails_send
    from apps.generation.services import headshot_pick

    c, job = finished
    headshot_pick(organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1))
    now = timezone.now()
    assert approval_mails_send(now=now) == 2  # HR and the approver
    for address in ("hr@acme.example", "approver@acme.example"):
        (message,) = smtp_inbox.to(address)
        assert message["Subject"] == "1 headshot waiting for your approval"
        text, _ = Inbox.parts(message)
        assert "1 headshot waits for your approval" in text and "Pat O'Brien" in text
        assert f"{PUBLIC}/o/{c.org.slug}/approvals/" in text
    # nothing new within the hour, nor after it: no more mail
    assert approval_mails_send(now=now + timedelta(minutes=20)) == 0
    assert approval_mails_send(now=now + timedelta(hours=2)) == 0
    # the approver turned this mail off; HR hears of the next one after the hour
    Membership.objects.filter(user=c.approver).update(mail_off=["approvals"])
    job.headshots.filter(rank=1).update(picked_at=now + timedelta(hours=2, minutes=30))
    assert approval_mails_send(now=now + timedelta(hours=3)) == 1
    assert len(smtp_inbox.to("hr@acme.example")) == 2
    assert len(smtp_inbox.to("approver@acme.example")) == 1


def test_a_published_card_reaches_the_person(approved, smtp_inbox, public, run_jobs):
    from apps.publishing.models import PublicationTarget
    from apps.publishing.services import publication_request

    c, headshot = approved
    run_jobs()
    publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.BUSINESS_CARD
    )
    run_jobs()
    subjects = [m["Subject"] for m in smtp_inbox.to("pat@acme.example")]
    assert "Your headshot is published" in subjects
    published = smtp_inbox.to("pat@acme.example")[subjects.index("Your headshot is published")]
    assert "your business card is ready to download" in Inbox.parts(published)[0]


def test_a_mail_server_that_does_not_answer_never_stops_the_work(
    ready, run_jobs, settings, public, caplog
):
    from apps.generation.models import JobStatus
    from tests.apps.factories import start_job

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    job = start_job(ready)
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert "the ready mail could not be sent" in caplog.text


def test_someone_of_a_company_with_single_sign_on_gets_no_mailed_link(
    acme, globex, client, smtp_inbox, public
):
    """Pat is also a member of a company that signs in through its identity provider: a
    mailed link would pass over that company's sign-in rules, so none is sent."""
    IdentityProvider.objects.create(
        organization=globex.org, issuer="https://id.globex.example", client_id="portal"
    )
    Membership.objects.create(organization=globex.org, user=acme.employee_user, role="employee")
    page = client.post(reverse("login"), {"email": "pat@acme.example"}, follow=True)
    assert "Check the address" in page.content.decode()
    assert not smtp_inbox.to("pat@acme.example")
