"""A trial as a new HR team starts one: the links `make serve` prints (manage.py trial),
HR invites someone, the mail reaches a real SMTP server, and the invitee's link brings
them, signed in, to their own page; the mail settings page; on a desktop and a phone."""

from __future__ import annotations

import io
import re
import time

import pytest
from django.core.management import call_command

from tests.conftest import Inbox
from tests.e2e.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)
LINK = re.compile(r"(http://\S+/accounts/link/\S+/)")


def _wait_for(check, timeout_s: float = 15.0):
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("it did not arrive in time")
        time.sleep(0.1)


def test_a_trial_from_the_printed_links_to_an_invitees_own_page(
    browser_page, chromium, live_server, smtp_inbox, settings
):
    settings.HEADSHOTS_PUBLIC_URL = live_server.url
    printed = io.StringIO()
    call_command("trial", stdout=printed)
    output = printed.getvalue()
    assert f"The portal: {live_server.url}/" in output
    hr_link, employee_link = LINK.findall(output)
    page = browser_page
    page.goto(hr_link)
    shot(page, "trial-1-sign-in-link")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Invitations").click()
    page.get_by_label("Name").fill("Sam Taylor")
    page.get_by_label("Email").fill("sam.taylor@demo.example")
    page.get_by_role("button", name="Send the invitation").click()
    page.get_by_text("sam.taylor@demo.example").first.wait_for()
    shot(page, "trial-2-invited")
    message = _wait_for(lambda: smtp_inbox.to("sam.taylor@demo.example"))[0]
    text, html = Inbox.parts(message)
    invite = re.search(r"(http://\S+/invite/\S+/)", text).group(1)
    assert invite.startswith(live_server.url)
    # the invitee, in a browser of their own, on a phone
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    try:
        phone.set_content(html)  # the mail as a mail client shows it
        shot(phone, "trial-3-invitation-mail-phone")
        phone.goto(invite)
        shot(phone, "trial-4-join-phone")
        phone.get_by_role("button", name="Join and continue").click()
        phone.wait_for_url(re.compile(r"/o/[a-z0-9-]+/me/$"))
        assert "Sam Taylor" in phone.content() or "consent" in phone.content().lower()
        shot(phone, "trial-5-invitee-home-phone")
        phone.get_by_role("link", name="Mail settings").click()
        phone.get_by_label("When your headshots are ready to pick").uncheck()
        phone.get_by_role("button", name="Save").click()
        phone.get_by_text("Your mail settings are saved.").wait_for()
        shot(phone, "trial-6-mail-settings-phone")
    finally:
        context.close()
    # the employee's printed link works too, once
    other = chromium.new_context(viewport={"width": 1100, "height": 900})
    desk = other.new_page()
    try:
        desk.goto(employee_link)
        desk.get_by_role("button", name="Sign in").click()
        desk.wait_for_load_state()
        desk.goto(employee_link)
        assert "has been used" in desk.content()
    finally:
        other.close()
