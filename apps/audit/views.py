"""HR's audit log page and its JSON-lines export."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from apps.audit.selectors import audit_actions, audit_event_list, audit_period
from apps.audit.services import audit_chain_checked, audit_export_lines
from apps.core.errors import ApplicationError
from apps.organizations.models import MANAGER_ROLES
from apps.web.pages import CompanyRequest, company_page

AUDIT_PAGE = 100


@company_page(roles=MANAGER_ROLES)
def audit_page(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    params = request.GET
    try:
        since, until = audit_period(params.get("since"), params.get("until"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        since = until = None
    events = audit_event_list(
        organization=org,
        action=params.get("action") or None,
        actor=params.get("actor") or None,
        since=since,
        until=until,
    )
    page = Paginator(events.order_by("-sequence"), AUDIT_PAGE).get_page(params.get("page"))
    actions = audit_actions(organization=org)
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/audit.html",
        {
            "page": page,
            "actions": actions,
            "params": params,
            "query": query.urlencode(),
            "chain": audit_chain_checked(organization=org),
        },
    )


@company_page(roles=MANAGER_ROLES)
def audit_export(request: CompanyRequest) -> StreamingHttpResponse:
    org = request.organization
    response = StreamingHttpResponse(
        (line + "\n" for line in audit_export_lines(organization=org)),
        content_type="application/x-ndjson",
    )
    response["Content-Disposition"] = f'attachment; filename="{org.slug}-audit.jsonl"'
    return response
