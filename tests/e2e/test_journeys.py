"""The employee's journey from consent to pick, and HR's from a preset edit to bulk
approval, in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.generation.models import HeadshotStatus
from tests.apps.conftest import USABLE
from tests.apps.factories import company
from tests.e2e.conftest import shot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_employee_consents_uploads_and_picks(
    browser_page, live_server, selfies, run_jobs, tmp_path
):
    page = browser_page
    c = company("Acme", "acme.example", consent=False)
    sign_in(page, live_server.url, c.employee_user.username)
    page.goto(f"{live_server.url}/o/{c.org.slug}/me/")
    page.get_by_role("link", name="Read and consent").click()
    assert "biometric data" in page.content()
    page.get_by_label("I have read this and agree").check()
    shot(page, "employee-1-consent")
    page.get_by_role("button", name="I agree").click()
    page.wait_for_url(re.compile(r"/me/photos/$"))
    files = []
    for name in USABLE:
        path = tmp_path / name
        path.write_bytes(selfies[name])
        files.append(str(path))
    bad = tmp_path / "not-a-photo.jpg"
    bad.write_bytes(b"<html>not a photo</html>")
    page.set_input_files("#photo-input", [*files, str(bad)])
    page.get_by_text("Refused").wait_for()
    # (no wait_for_function: a string predicate is an eval, which the portal's CSP forbids)
    expect(page.locator("#uploads progress")).to_have_count(0)
    shot(page, "employee-2-uploaded")
    run_jobs()  # the workers check the photos
    page.locator("[data-usable]").filter(has_text=str(len(USABLE))).wait_for()
    # each photo's own poll brings its verdict; wait for all of them
    expect(page.get_by_text("Usable", exact=True)).to_have_count(len(USABLE))
    shot(page, "employee-3-checked")
    button = page.get_by_role("button", name="Make my headshots")
    assert button.is_enabled()
    button.click()
    page.wait_for_url(re.compile(r"/me/jobs/\d+/$"))
    assert page.locator("progress").count() == 1
    run_jobs()  # the workers make the headshots; the page reloads itself when done
    page.get_by_role("heading", name="Pick your favourite").wait_for()
    images = page.locator(".grid > .tile > img")  # the larger views load when opened
    assert images.count() >= 1
    # every candidate's signed link answered with an image
    for index in range(images.count()):
        _wait_until(
            lambda i=index: images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
        )
    shot(page, "employee-4-gallery")
    page.get_by_text("Larger, beside my selfie").first.click()
    larger = page.locator("details.larger[open] .compare img")
    expect(larger).to_have_count(2)
    for index in range(2):
        _wait_until(
            lambda i=index: larger.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
        )
    shot(page, "employee-4b-larger")
    page.get_by_role("button", name="Pick this one").first.click()
    page.get_by_text("Your pick, waiting for HR").wait_for()
    shot(page, "employee-5-picked")
    # the feedback a person can give names what the next round changes
    for words in ("Lighter", "Closer: more of my face", "Made from another of my selfies"):
        assert page.get_by_label(words).count() == 1
    # their home says where they stand, in words
    page.get_by_role("link", name="My headshot").click()
    page.get_by_text("You picked a headshot: it is waiting for HR's approval.").wait_for()
    shot(page, "employee-6-home-waiting")
    # an approver lands on the approvals, and reads the scores in words
    page.context.clear_cookies()
    sign_in(page, live_server.url, c.approver.username)
    page.wait_for_url(re.compile(r"/approvals/$"))
    page.get_by_text("Looks like them (face model, 0 to 1)").first.wait_for()
    assert "skin_delta_e" not in page.content()
    shot(page, "approver-1-queue")
    assert c.employee.headshots.filter(status=HeadshotStatus.PICKED).count() == 1


def test_hr_edits_a_preset_then_bulk_approves(browser_page, live_server, selfies, run_jobs):
    from apps.generation.services import generation_job_create, headshot_pick
    from apps.organizations.models import EmployeeProfile, Membership, Role
    from apps.photos.selectors import consent_text_current
    from apps.photos.services import consent_give, photo_upload
    from tests.apps.factories import user

    page = browser_page
    c = company("Acme", "acme.example")
    people = [(c.employee_user, c.employee)]
    second = user("sam@acme.example")
    Membership.objects.create(organization=c.org, user=second, role=Role.EMPLOYEE)
    sam = EmployeeProfile.objects.create(
        organization=c.org,
        user=second,
        full_name="Sam Lee",
        email="sam@acme.example",
        status="active",
    )
    consent_give(
        organization=c.org,
        employee=sam,
        actor=second,
        text_version=consent_text_current(organization=c.org).version,
    )
    people.append((second, sam))
    for person_user, employee in people:
        for name in USABLE:
            photo_upload(
                organization=c.org, employee=employee, actor=person_user, data=selfies[name]
            )
    run_jobs()
    for person_user, employee in people:
        generation_job_create(
            organization=c.org, actor=person_user, employee=employee, preset=c.preset()
        )
    run_jobs()
    for person_user, employee in people:
        job = employee.jobs.get()
        headshot_pick(organization=c.org, actor=person_user, headshot=job.headshots.get(rank=1))

    sign_in(page, live_server.url, c.hr.username)
    page.goto(f"{live_server.url}/o/{c.org.slug}/hr/presets/")
    page.get_by_role("link", name="Corporate executive").click()
    page.wait_for_url(re.compile(r"/hr/presets/corporate-executive/$"))
    page.wait_for_load_state("load")  # the editor's script listens from here on
    preview = page.locator("#preset-preview")
    first = preview.get_attribute("src")
    page.get_by_label("Backdrop kind").select_option("solid")
    page.get_by_label("Attire").fill("navy suit, open collar")
    page.get_by_text("Preview updated.").wait_for()
    assert preview.get_attribute("src") != first and preview.get_attribute("src").startswith(
        "blob:"
    )
    shot(page, "hr-1-preset-preview")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved as version").wait_for()
    shot(page, "hr-2-preset-saved")

    page.goto(f"{live_server.url}/o/{c.org.slug}/hr/")
    assert "Awaiting approval" in page.content()
    shot(page, "hr-3-dashboard")
    page.get_by_role("link", name="Approvals").click()
    boxes = page.get_by_label("Tick for bulk approval")
    assert boxes.count() == 2
    for i in range(2):
        boxes.nth(i).check()
    shot(page, "hr-4-approvals")
    page.get_by_role("button", name="Approve the ticked headshots").click()
    page.get_by_text("Approved 2 headshots.").wait_for()
    shot(page, "hr-5-approved")
    from apps.generation.models import Headshot

    assert Headshot.objects.filter(organization=c.org, status=HeadshotStatus.APPROVED).count() == 2
    # publish from the page, then open the card
    page.get_by_role("link", name="Publishing").click()
    for name in ("Pat O'Brien", "Sam Lee"):
        page.get_by_label(f"Choose {name}").check()
    shot(page, "hr-6-publishing")
    page.get_by_role("button", name="Publish the selected people").click()
    page.get_by_text("Publishing 2 people").wait_for()
    run_jobs()  # the workers make the cards
    page.reload()
    expect(page.get_by_text("Published", exact=True)).to_have_count(2)
    shot(page, "hr-7-published")
    with page.expect_download() as download:
        page.get_by_role("link", name="Open").first.click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename.startswith("business-card-")
    # each name on the dashboard opens the person
    page.get_by_role("link", name="People").click()
    page.get_by_role("link", name="Sam Lee").first.click()
    page.get_by_role("heading", name="Where they stand").wait_for()
    assert "Business card PDF: published" in page.inner_text("main")
    _wait_until(
        lambda: page.locator("main figure img").evaluate(
            "img => img.complete && img.naturalWidth > 0"
        )
    )
    shot(page, "hr-8-person")


def test_pages_work_on_a_phone_and_by_keyboard(browser_page, live_server):
    page = browser_page
    c = company("Acme", "acme.example")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, c.employee_user.username)
    page.goto(f"{live_server.url}/o/{c.org.slug}/me/photos/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    shot(page, "phone-upload")


def _wait_until(check, timeout_s: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the page did not get there in time")
        time.sleep(0.1)


def test_the_api_docs_page_works_offline_under_the_portals_own_policy(
    browser_page, live_server, db
):
    """Swagger UI comes from the portal itself: no other host is asked for anything, and
    the Content Security Policy blocks nothing on the page."""
    page = browser_page
    refused: list[str] = []
    elsewhere: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on(
        "request",
        lambda r: elsewhere.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Headshots portal API" in page.inner_text(".swagger-ui .info .title")
    shot(page, "api-docs")
    assert refused == [] and elsewhere == []


def test_hr_sees_the_research_licence_notice_above_every_page(browser_page, live_server, settings):
    """Under the research licence profile the notice sits at the top of HR's pages, in
    plain words, readable on a desktop and on a phone."""
    settings.HEADSHOTS = {**settings.HEADSHOTS, "LICENCE_PROFILE": "research"}
    page = browser_page
    c = company("Acme", "acme.example")
    sign_in(page, live_server.url, c.hr.username)
    page.goto(f"{live_server.url}/o/{c.org.slug}/hr/")
    notice = page.get_by_role("note")
    expect(notice).to_contain_text("Research use only.")
    expect(notice).to_contain_text("must not be used for business purposes")
    assert notice.bounding_box()["y"] < page.get_by_role("heading").first.bounding_box()["y"]
    shot(page, "hr-research-notice")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(notice).to_be_visible()
    shot(page, "hr-research-notice-phone")
