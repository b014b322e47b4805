"""The selfies page as a person uses it: the same photo twice is one row, a photo can be
deleted, the count says how many more are needed, and the button that cannot be used yet
looks it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.apps.factories import company
from tests.e2e.conftest import shot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_same_photo_twice_is_one_row_and_a_photo_can_be_deleted(
    browser_page, live_server, selfies, run_jobs, tmp_path
):
    page = browser_page
    c = company("Acme", "acme.example")
    sign_in(page, live_server.url, c.employee_user.username)
    page.goto(f"{live_server.url}/o/{c.org.slug}/me/photos/")
    button = page.get_by_role("button", name="Make my headshots")
    assert button.is_disabled()
    assert float(button.evaluate("b => getComputedStyle(b).opacity")) < 0.6  # looks it
    photo = tmp_path / "me.png"
    photo.write_bytes(selfies["selfie-01.png"])
    page.set_input_files("#photo-input", [str(photo)])
    expect(page.locator("#uploads > li")).to_have_count(1)
    expect(page.locator("#uploads progress")).to_have_count(0)
    page.set_input_files("#photo-input", [str(photo)])
    page.get_by_text("You uploaded this photo already").wait_for()
    expect(page.locator("#uploads > li")).to_have_count(1)
    run_jobs()
    page.get_by_text("Usable", exact=True).wait_for()
    assert "1 of the 3 we need" in page.inner_text("#usable-count")
    shot(page, "selfies-1-once")
    page.get_by_role("button", name="Delete this photo").click()
    page.get_by_text("The photo is deleted.").wait_for()
    expect(page.locator("#uploads > li")).to_have_count(0)
    shot(page, "selfies-2-deleted")
