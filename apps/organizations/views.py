from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.core.mail import portal_url
from apps.core.text import counted, plain_number
from apps.organizations.invitations import (
    invitation_invite,
    invitation_resend,
    invitation_revoke,
    invite_link_create,
    invite_link_join,
    invite_link_revoke,
)
from apps.organizations.models import MANAGER_ROLES, EmployeeProfile, Invitation, InviteLink, Role
from apps.organizations.provisioning import PersonData
from apps.organizations.roster import ROSTER_COLUMNS, ROSTER_MAX_BYTES, roster_check, roster_import
from apps.organizations.selectors import organizations_for_user
from apps.web.pages import CompanyRequest, SignedInRequest, company_page


@login_required
def index(request: SignedInRequest) -> HttpResponse:
    companies = list(organizations_for_user(user=request.user).order_by("name"))
    if len(companies) == 1:
        return redirect("company-home", companies[0].slug)
    return render(request, "portal/index.html", {"companies": companies})


@company_page()
def company_home(request: CompanyRequest) -> HttpResponse:
    if request.membership.role in MANAGER_ROLES:
        return redirect("hr-dashboard", request.organization.slug)
    if request.membership.role == Role.APPROVER:
        return redirect("approval-queue", request.organization.slug)
    return redirect("employee-home", request.organization.slug)


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
def invitations_page(request: CompanyRequest) -> HttpResponse:
    org = request.organization
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
                request.session[f"new-link-{org.pk}"] = portal_url(reverse("join", args=[token]))
                return redirect("invitations", org.slug)
            if action == "revoke_link":
                invite_link_revoke(
                    organization=org, actor=request.user, link_id=_int(request.POST.get("link"))
                )
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
    return int(value) if value and plain_number(value) and len(value) < 18 else 0


@company_page(roles=MANAGER_ROLES)
def roster_page(request: CompanyRequest) -> HttpResponse:
    """Upload a roster, see the verdict on every row, then import the valid ones."""
    import base64

    org = request.organization
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
            f"{counted(counts['errors'], 'row')} with problems left out.",
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
def join_landing(request: SignedInRequest, token: str) -> HttpResponse:
    """A shared invite link, once the person has signed in."""
    return _join(request, lambda: invite_link_join(token=token, user=request.user))


def _join(request: SignedInRequest, accept: Callable[[], EmployeeProfile]) -> HttpResponse:
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
