"""The research licence profile is never silent: every HR page says what it means."""

from __future__ import annotations

from django.urls import reverse

BANNER = "Research use only."


def test_hr_sees_the_research_profile_on_every_page_and_employees_do_not(client, acme, settings):
    client.force_login(acme.hr)
    pages = [reverse(name, args=[acme.org.slug]) for name in ("hr-dashboard", "presets", "audit")]
    for page in pages:
        assert BANNER not in client.get(page).content.decode()
    settings.HEADSHOTS = {**settings.HEADSHOTS, "LICENCE_PROFILE": "research"}
    for page in pages:
        text = client.get(page).content.decode()
        assert BANNER in text and "must not be used for business purposes" in text
    client.force_login(acme.employee_user)
    assert BANNER not in client.get(reverse("employee-home", args=[acme.org.slug])).content.decode()
