"""Publishing from HR's pages: one person, a selection, a department, or as soon as HR
approves; the published files open from the page; the person finds their card on their
own page; the status sentence on the person's page says where their round stands."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.publishing.models import Publication, PublicationStatus, PublicationTarget

pytestmark = pytest.mark.django_db


def page(client, c):
    return client.get(reverse("publishing", args=[c.org.slug]))


def test_hr_publishes_one_person_and_opens_the_card(approved, client, run_jobs):
    c, headshot = approved
    client.force_login(c.hr)
    listing = page(client, c).content.decode()
    assert "Pat O&#x27;Brien" in listing and "Not published" in listing
    answer = client.post(
        reverse("publishing", args=[c.org.slug]), {"action": "one", "person": c.employee.pk}
    )
    assert answer.status_code == 302
    run_jobs()
    card = Publication.objects.get(employee=c.employee, target=PublicationTarget.BUSINESS_CARD)
    assert card.status == PublicationStatus.SUCCEEDED and card.headshot == headshot
    listing = page(client, c).content.decode()
    link = reverse("publication-file", args=[c.org.slug, card.pk])
    assert "Published" in listing and link in listing
    pdf = client.get(link)
    assert pdf["Content-Type"] == "application/pdf" and pdf.getvalue().startswith(b"%PDF")
    assert 'filename="business-card-pat-o-brien.pdf"' in pdf["Content-Disposition"]
    # the person finds it on their own page
    client.force_login(c.employee_user)
    home = client.get(reverse("employee-home", args=[c.org.slug])).content.decode()
    assert reverse("my-card", args=[c.org.slug]) in home
    assert client.get(reverse("my-card", args=[c.org.slug])).getvalue().startswith(b"%PDF")


def test_a_selection_or_a_department_is_published_at_once(approved, client, run_jobs):
    c, _ = approved
    client.force_login(c.hr)
    nobody = client.post(
        reverse("publishing", args=[c.org.slug]), {"action": "selected"}, follow=True
    )
    assert "Tick the people to publish first." in nobody.content.decode()
    client.post(
        reverse("publishing", args=[c.org.slug]),
        {"action": "selected", "person": [c.employee.pk, "²"]},
    )
    assert Publication.objects.filter(employee=c.employee).count() == 1  # no directory set up
    Publication.objects.all().delete()
    missing = client.post(
        reverse("publishing", args=[c.org.slug]),
        {"action": "department", "department": "Sales"},
        follow=True,
    )
    assert "Nobody in Sales has an approved headshot yet." in missing.content.decode()
    client.post(
        reverse("publishing", args=[c.org.slug]), {"action": "department", "department": "R&D"}
    )
    assert Publication.objects.filter(employee=c.employee).count() == 1


def test_with_publish_on_approval_an_approval_publishes(finished, client, run_jobs):
    from apps.generation.services import headshot_approve, headshot_pick

    c, job = finished
    client.force_login(c.hr)
    client.post(
        reverse("publishing", args=[c.org.slug]),
        {"action": "setting", "publish_on_approval": "on"},
    )
    c.org.refresh_from_db()
    assert c.org.publish_on_approval
    best = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    headshot_approve(organization=c.org, actor=c.hr, headshot=best)
    run_jobs()
    card = Publication.objects.get(employee=c.employee, target=PublicationTarget.BUSINESS_CARD)
    assert card.status == PublicationStatus.SUCCEEDED


def test_only_hr_reaches_the_publishing_page_and_only_its_companys_files(
    approved, globex, client, run_jobs
):
    c, _ = approved
    client.force_login(c.hr)
    client.post(
        reverse("publishing", args=[c.org.slug]), {"action": "one", "person": c.employee.pk}
    )
    run_jobs()
    card = Publication.objects.get(employee=c.employee)
    client.force_login(c.approver)
    assert page(client, c).status_code == 403
    client.force_login(globex.hr)
    assert (
        client.get(reverse("publication-file", args=[globex.org.slug, card.pk])).status_code == 404
    )


def test_the_persons_page_says_where_their_round_stands(finished, client):
    from apps.generation.services import headshot_pick, headshot_reject

    c, job = finished
    client.force_login(c.employee_user)

    def home() -> str:
        return client.get(reverse("employee-home", args=[c.org.slug])).content.decode()

    assert "Your headshots are ready: pick the one you like." in home()
    best = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    assert "waiting for HR&#x27;s approval" in home() and "Succeeded" not in home()
    headshot_reject(organization=c.org, actor=c.hr, headshot=best, reason="Too dark.")
    assert "HR sent your pick back: Too dark." in home()


def test_an_approver_lands_on_the_approvals(acme, client):
    client.force_login(acme.approver)
    answer = client.get(reverse("company-home", args=[acme.org.slug]))
    assert answer.url == reverse("approval-queue", args=[acme.org.slug])


def test_hr_opens_a_person_from_the_dashboard_and_acts_on_them(approved, client):
    from apps.organizations.models import EmployeeStatus

    c, _ = approved
    client.force_login(c.hr)
    person = reverse("person", args=[c.org.slug, c.employee.pk])
    dashboard = client.get(reverse("hr-dashboard", args=[c.org.slug])).content.decode()
    assert f'href="{person}"' in dashboard
    page = client.get(person).content.decode()
    assert "Where they stand" in page and "Approved" in page and "Publish Pat O&#x27;Brien" in page
    unconfirmed = client.post(person, {"action": "left"}, follow=True).content.decode()
    assert "Tick the box to confirm" in unconfirmed
    client.post(person, {"action": "left", "confirm": "yes"})
    c.employee.refresh_from_db()
    assert c.employee.status == EmployeeStatus.LEFT
