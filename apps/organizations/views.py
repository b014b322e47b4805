from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.organizations.invitations import (
    ROSTER_COLUMNS,
    ROSTER_MAX_BYTES,
    invitation_invite,
    invitation_resend,
    invitation_revoke,
    invite_link_create,
    invite_link_join,
    roster_check,
    roster_import,
)
from apps.organizations.models import MANAGER_ROLES, EmployeeProfile, Invitation, InviteLink, Role
from apps.organizations.pages import company_page
from apps.organizations.provisioning import PersonData
from apps.organizations.selectors import PERSON_STATES, organizations_for_user, people_progress
from apps.organizations.services import invitation_accept


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


# -- invitations, invite links, roster import ------------------------------------------------------
class InviteForm(forms.Form):
    full_name = forms.CharField(max_length=200, label="Name")
    email = forms.EmailField()
    title = forms.CharField(max_length=200, required=False)
    department = forms.CharField(max_length=200, required=False)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EMPLOYEE)


class LinkForm(forms.Form):
    max_uses = forms.IntegerField(
        min_value=1, max_value=10_000, initial=50, label="People it admits"
    )
    days = forms.IntegerField(min_value=1, max_value=90, initial=14, label="Days it works")


@company_page(roles=MANAGER_ROLES)
def invitations_page(request: HttpRequest) -> HttpResponse:
    org = request.organization  # type: ignore[attr-defined]
    invite_form = InviteForm(request.POST if request.POST.get("action") == "invite" else None)
    link_form = LinkForm(request.POST if request.POST.get("action") == "link" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "invite" and invite_form.is_valid():
                data = invite_form.cleaned_data
                invitation_invite(
                    organization=org,
                    actor=request.user,
                    data=PersonData(
                        email=data["email"],
                        full_name=data["full_name"],
                        title=data["title"],
                        department=data["department"],
                    ),
                    role=data["role"],
                )
                messages.success(request, f"Invitation sent to {data['email']}.")
                return redirect("invitations", org.slug)
            if action in {"resend", "revoke"}:
                invitation = Invitation.objects.filter(
                    organization=org, pk=_int(request.POST.get("invitation"))
                ).first()
                if invitation is None:
                    raise Http404("Not found.")
                if action == "resend":
                    invitation_resend(organization=org, actor=request.user, invitation=invitation)
                    messages.success(request, f"A new link was sent to {invitation.email}.")
                else:
                    invitation_revoke(organization=org, actor=request.user, invitation=invitation)
                    messages.success(
                        request, f"The invitation of {invitation.email} no longer works."
                    )
                return redirect("invitations", org.slug)
            if action == "link" and link_form.is_valid():
                _, token = invite_link_create(
                    organization=org, actor=request.user, **link_form.cleaned_data
                )
                request.session[f"new-link-{org.pk}"] = settings.HEADSHOTS_PUBLIC_URL + reverse(
                    "join", args=[token]
                )
                return redirect("invitations", org.slug)
            if action == "revoke_link":
                InviteLink.objects.filter(
                    organization=org, pk=_int(request.POST.get("link")), revoked_at__isnull=True
                ).update(revoked_at=timezone.now())
                messages.success(request, "The link no longer works.")
                return redirect("invitations", org.slug)
        except ApplicationError as exc:
            messages.error(request, exc.message)
    pending = (
        Invitation.objects.filter(
            organization=org, accepted_at__isnull=True, revoked_at__isnull=True
        )
        .select_related("employee")
        .order_by("-created_at")[:500]
    )
    links = InviteLink.objects.filter(organization=org, revoked_at__isnull=True).order_by(
        "-created_at"
    )
    return render(
        request,
        "portal/invitations.html",
        {
            "invite_form": invite_form,
            "link_form": link_form,
            "pending": pending,
            "links": links,
            "new_link": request.session.pop(f"new-link-{org.pk}", None),
            "now": timezone.now(),
        },
    )


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 18 else 0


@company_page(roles=MANAGER_ROLES)
def roster_page(request: HttpRequest) -> HttpResponse:
    """Upload a roster, see the verdict on every row, then import the valid ones."""
    import base64

    org = request.organization  # type: ignore[attr-defined]
    key = f"roster-{org.pk}"
    report = None
    if request.method == "POST" and request.POST.get("action") == "import":
        stored = request.session.pop(key, None)
        if stored is None:
            messages.error(request, "Upload the roster again: the checked file was not found.")
            return redirect("roster", org.slug)
        try:
            counts = roster_import(
                organization=org, actor=request.user, content=base64.b64decode(stored)
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("roster", org.slug)
        messages.success(
            request,
            f"Invited {counts['invited']}, updated {counts['updated']}, unchanged {counts['skipped']}; "
            f"{counts['errors']} row(s) with problems left out.",
        )
        return redirect("invitations", org.slug)
    if request.method == "POST":
        upload = request.FILES.get("roster")
        if upload is None:
            messages.error(request, "Choose a CSV file.")
            return redirect("roster", org.slug)
        content = upload.read(ROSTER_MAX_BYTES + 1)
        report = roster_check(organization=org, content=content)
        if not report.problems and report.valid:
            request.session[key] = base64.b64encode(content).decode("ascii")
    return render(request, "portal/roster.html", {"report": report, "columns": ROSTER_COLUMNS})


@login_required
def invitation_landing(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation e-mail, once the person has signed in."""
    return _join(request, lambda: invitation_accept(token=token, user=request.user))


@login_required
def join_landing(request: HttpRequest, token: str) -> HttpResponse:
    """A shared invite link, once the person has signed in."""
    return _join(request, lambda: invite_link_join(token=token, user=request.user))


def _join(request: HttpRequest, accept: Callable[[], EmployeeProfile]) -> HttpResponse:
    try:
        employee = accept()
    except ApplicationError as exc:
        return render(
            request,
            "portal/invitation_problem.html",
            {"message": exc.message},
            status=exc.status_code,
        )
    return redirect("employee-home", employee.organization.slug)


# -- retention and the audit log --------------------------------------------------------------------
class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(
        min_value=1, max_value=1095, label="Days after approval before selfies are deleted"
    )
    leaver_retention_days = forms.IntegerField(
        min_value=0, max_value=90, label="Days after someone leaves before their data is deleted"
    )
    invitation_reminder_days = forms.IntegerField(
        min_value=0, max_value=30, label="Days before one reminder to an unanswered invitation"
    )


@company_page(roles=MANAGER_ROLES)
def retention_page(request: HttpRequest) -> HttpResponse:
    from apps.organizations.services import organization_retention_update
    from apps.photos.retention import retention_schedule

    org = request.organization  # type: ignore[attr-defined]
    form = RetentionForm(
        request.POST or None,
        initial={
            "retention_days": org.retention_days,
            "leaver_retention_days": org.leaver_retention_days,
            "invitation_reminder_days": org.invitation_reminder_days,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            organization_retention_update(organization=org, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, "Retention schedule saved; people see it on their consent page."
            )
            return redirect("retention", org.slug)
    return render(
        request, "portal/retention.html", {"form": form, "schedule": retention_schedule(org)}
    )


AUDIT_PAGE = 100


@company_page(roles=MANAGER_ROLES)
def audit_page(request: HttpRequest) -> HttpResponse:
    from django.core.paginator import Paginator
    from django.utils.dateparse import parse_date

    from apps.audit.models import AuditEvent
    from apps.audit.selectors import audit_event_list
    from apps.audit.services import audit_chain_verify

    org = request.organization  # type: ignore[attr-defined]
    params = request.GET
    events = audit_event_list(organization=org, action=params.get("action") or None)
    if params.get("actor"):
        events = events.filter(actor_label__icontains=params["actor"][:100])
    for name, lookup in (("since", "created_at__date__gte"), ("until", "created_at__date__lte")):
        day = parse_date(params.get(name) or "")
        if day is not None:
            events = events.filter(**{lookup: day})
    page = Paginator(events.order_by("-sequence"), AUDIT_PAGE).get_page(params.get("page"))
    actions = (
        AuditEvent.objects.filter(organization=org)
        .values_list("action", flat=True)
        .distinct()
        .order_by("action")
    )
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/audit.html",
        {
            "page": page,
            "actions": list(actions),
            "params": params,
            "query": query.urlencode(),
            "chain": audit_chain_verify(organization=org),
        },
    )


@company_page(roles=MANAGER_ROLES)
def audit_export(request: HttpRequest) -> HttpResponse:
    from django.http import StreamingHttpResponse

    from apps.audit.services import audit_export_lines

    org = request.organization  # type: ignore[attr-defined]
    response = StreamingHttpResponse(
        (line + "\n" for line in audit_export_lines(organization=org)),
        content_type="application/x-ndjson",
    )
    response["Content-Disposition"] = f'attachment; filename="{org.slug}-audit.jsonl"'
    return response
