"""HR's people dashboard: everyone by state, who is stuck and since when."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from apps.core.errors import ApplicationError
from apps.generation.models import Headshot, HeadshotStatus
from apps.generation.selectors import job_list
from apps.organizations.models import MANAGER_ROLES, EmployeeProfile
from apps.organizations.services import employee_leave
from apps.people.selectors import (
    PERSON_STATES,
    people_filtered,
    people_state_counts,
    people_stuck_longest,
)
from apps.people.standing import people_page_progress, people_restand_stale
from apps.publishing.models import Publication
from apps.web.pages import CompanyRequest, company_page, refused

PEOPLE_PAGE = 100


@company_page(roles=MANAGER_ROLES)
def hr_dashboard(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    people_restand_stale(organization=org)
    counts = people_state_counts(organization=org)
    wanted = request.GET.get("state", "")
    if wanted not in dict(PERSON_STATES):
        wanted = ""
    shown = people_filtered(organization=org, state=wanted, stuck=bool(request.GET.get("stuck")))
    page = Paginator(shown, PEOPLE_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/hr_dashboard.html",
        {
            "states": [(key, label, counts.get(key, 0)) for key, label in PERSON_STATES],
            "labels": dict(PERSON_STATES),
            "page": page,
            "people": people_page_progress(organization=org, people=page.object_list),
            "shown": page.paginator.count,
            "stuck": people_page_progress(
                organization=org, people=people_stuck_longest(organization=org)
            ),
            "total": sum(counts.values()),
            "state": wanted,
            "query": query.urlencode(),
        },
    )


# -- invitations, invite links, roster import ------------------------------------------------------


@company_page()
def person_page(request: CompanyRequest, pk: int) -> HttpResponse:
    """One person for HR: where they stand, their rounds, the headshot they picked or
    that was approved, where it is published, and what HR can do next. To anyone else it
    answers as a person who does not exist."""
    org = request.organization
    employee = EmployeeProfile.objects.filter(organization=org, pk=pk).first()
    if employee is None or request.membership.role not in MANAGER_ROLES:
        raise Http404("Not found.")
    if request.method == "POST" and request.POST.get("action") == "left":
        if request.POST.get("confirm") != "yes":
            messages.error(request, f"Tick the box to confirm that {employee.full_name} left.")
            return redirect("person", org.slug, employee.pk)
        try:
            employee_leave(organization=org, actor=request.user, employee=employee)
        except ApplicationError as exc:
            return refused(request, exc, "person", employee.pk)
        messages.success(
            request,
            f"{employee.full_name} is recorded as having left: their photo leaves the directory "
            "at the next sync, and their data is deleted on the company's schedule.",
        )
        return redirect("hr-dashboard", org.slug)
    progress = next(iter(people_page_progress(organization=org, people=[employee])), None)
    headshots = Headshot.objects.filter(
        organization=org,
        employee=employee,
        status__in=[HeadshotStatus.PICKED, HeadshotStatus.APPROVED],
    ).order_by("-updated_at")[:3]
    return render(
        request,
        "portal/person.html",
        {
            "person": employee,
            "progress": progress,
            "labels": dict(PERSON_STATES),
            "jobs": job_list(organization=org, employee=employee)[:10],
            "headshots": headshots,
            "publications": Publication.objects.filter(organization=org, employee=employee),
        },
    )
