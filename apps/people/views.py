"""HR's people dashboard: everyone by state, who is stuck and since when."""

from __future__ import annotations

from collections import Counter

from django.http import HttpResponse
from django.shortcuts import render

from apps.organizations.models import MANAGER_ROLES
from apps.people.selectors import PERSON_STATES, people_progress
from apps.web.pages import CompanyRequest, company_page


@company_page(roles=MANAGER_ROLES)
def hr_dashboard(request: CompanyRequest) -> HttpResponse:
    people = people_progress(organization=request.organization)
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


# -- invitations, invite links, roster import ------------------------------------------------------
