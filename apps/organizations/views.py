from __future__ import annotations

from collections import Counter

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.organizations.models import MANAGER_ROLES
from apps.organizations.pages import company_page
from apps.organizations.selectors import PERSON_STATES, organizations_for_user, people_progress


@login_required
def index(request: HttpRequest) -> HttpResponse:
    companies = list(organizations_for_user(user=request.user).order_by("name"))
    if len(companies) == 1:
        return redirect("company-home", companies[0].slug)
    return render(request, "portal/index.html", {"companies": companies})


@company_page()
def company_home(request: HttpRequest) -> HttpResponse:
    if request.membership.role in MANAGER_ROLES:  # type: ignore[attr-defined]
        return redirect("hr-dashboard", request.organization.slug)  # type: ignore[attr-defined]
    return redirect("employee-home", request.organization.slug)  # type: ignore[attr-defined]


@company_page(roles=MANAGER_ROLES)
def hr_dashboard(request: HttpRequest) -> HttpResponse:
    people = people_progress(organization=request.organization)  # type: ignore[attr-defined]
    counts = Counter(p.state for p in people)
    wanted = request.GET.get("state", "")
    shown = [p for p in people if p.state == wanted] if wanted else people
    if request.GET.get("stuck"):
        shown = [p for p in shown if p.stuck]
    return render(
        request,
        "portal/hr_dashboard.html",
        {
            "states": [(key, label, counts.get(key, 0)) for key, label in PERSON_STATES],
            "labels": dict(PERSON_STATES),
            "people": shown,
            "stuck": sorted((p for p in people if p.stuck), key=lambda p: p.since)[:20],
            "total": len(people),
            "state": wanted,
        },
    )
