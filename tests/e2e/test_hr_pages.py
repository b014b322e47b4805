"""HR's pages for what used to need the API: API tokens and publishing, in a real
browser on a desktop and a phone."""

from __future__ import annotations

import pytest

from tests.apps.factories import company
from tests.e2e.conftest import shot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_hr_makes_and_revokes_an_api_token(browser_page, live_server):
    page = browser_page
    c = company("Acme", "acme.example")
    sign_in(page, live_server.url, c.hr.username)
    page.goto(f"{live_server.url}/o/{c.org.slug}/hr/")
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("Workday sync")
    page.get_by_label("List the company's people and their state.").check()
    page.get_by_label("Works for").select_option("90")
    page.get_by_role("button", name="Make the token").click()
    token = page.get_by_label("The new token").input_value()
    assert token.startswith("hs_")
    shot(page, "hr-tokens-1-made")
    page.reload()
    assert token not in page.content()
    page.set_viewport_size({"width": 390, "height": 844})
    # nothing sticks out sideways: a wide table scrolls inside its own box
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot(page, "hr-tokens-2-phone")
    page.get_by_role("button", name="Revoke Workday sync").click()
    page.get_by_text("Workday sync is revoked").wait_for()
    shot(page, "hr-tokens-3-revoked")


def test_error_pages_look_like_the_portal(browser_page, live_server):
    page = browser_page
    c = company("Acme", "acme.example")
    sign_in(page, live_server.url, c.employee_user.username)
    answer = page.goto(f"{live_server.url}/o/{c.org.slug}/nothing-here/")
    assert answer.status == 404
    page.get_by_role("heading", name="This page is not here").wait_for()
    assert page.get_by_role("link", name="Go to the start page").is_visible()
    shot(page, "error-404")
    answer = page.goto(f"{live_server.url}/o/{c.org.slug}/hr/")
    assert answer.status == 403
    page.get_by_role("heading", name="You cannot open this page").wait_for()
    shot(page, "error-403")
    icon = page.request.get(f"{live_server.url}/favicon.ico")
    assert icon.ok and b"<svg" in icon.body()


def test_hr_copies_a_preset_and_the_preview_warns_before_it_holds_everyone_back(
    browser_page, live_server
):
    page = browser_page
    c = company("Acme", "acme.example")
    sign_in(page, live_server.url, c.hr.username)
    page.goto(f"{live_server.url}/o/{c.org.slug}/hr/presets/")
    page.get_by_role("button", name="Make a new preset from Corporate executive").click()
    page.wait_for_url("**/hr/presets/corporate-executive-copy/")
    page.wait_for_load_state("load")
    page.get_by_label("Colour temperature (K)").fill("2800")
    status = page.locator("#preview-status")
    status.get_by_text("The skin tone changes too much").wait_for()
    shot(page, "hr-preset-warning")
    page.get_by_label("Colour temperature (K)").fill("5200")
    status.get_by_text("Preview updated.").wait_for()


HR_PAGES = [
    "hr-dashboard", "invitations", "publishing", "presets", "consent-text", "fairness",
    "retention", "audit", "api-tokens", "directory-settings", "card-settings",
    "approval-queue", "roster", "mail-settings",
    ("cloud-directory", "microsoft"), ("cloud-directory", "google"),
]  # fmt: skip
EMPLOYEE_PAGES = ["employee-home", "photos", "consent", "my-data", "mail-settings"]


def test_every_page_fits_a_desktop_and_a_phone(browser_page, live_server):
    """Each page of HR and of a person, at 1366 and 390 px: nothing wider than the
    screen, the navigation on its own rows, a screenshot of each kept."""
    from django.urls import reverse

    page = browser_page
    c = company("Acme", "acme.example")
    for who, names in ((c.hr, HR_PAGES), (c.employee_user, EMPLOYEE_PAGES)):
        page.context.clear_cookies()
        sign_in(page, live_server.url, who.username)
        for entry in names:
            name, *more = (entry,) if isinstance(entry, str) else entry
            url = live_server.url + reverse(name, args=[c.org.slug, *more])
            name = "-".join([name, *more])
            for width, device in ((1366, "desktop"), (390, "phone")):
                page.set_viewport_size({"width": width, "height": 900})
                answer = page.goto(url)
                assert answer.status == 200, (name, answer.status)
                wide = page.evaluate("() => document.documentElement.scrollWidth")
                assert wide <= width, f"{name} scrolls sideways at {width} px ({wide} px)"
                if device == "desktop":  # the navigation fits one row on a laptop screen
                    rows = page.evaluate(
                        "() => new Set([...document.querySelectorAll('.top nav li')]"
                        ".map(li => Math.round(li.getBoundingClientRect().top))).size"
                    )
                    assert rows <= 1, f"{name}: the navigation wraps at 1366 px"
                shot(page, f"page-{who.username.split('@')[0]}-{name}-{device}")
