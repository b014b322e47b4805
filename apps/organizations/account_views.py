"""Pages about a person's own account: signing in with a one-time link, joining a company
from an invitation without single sign-on, and the mail they receive."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from apps.core.errors import ApplicationError
from apps.organizations.lockout import BACKEND
from apps.organizations.models import APPROVER_ROLES, EmployeeProfile, Membership
from apps.organizations.notifications import OPTIONAL, company_mail, single_sign_on
from apps.organizations.services import invitation_accept, invitation_open, user_get_or_create
from apps.organizations.signin_links import signin_link_make, signin_link_user
from apps.web.pages import CompanyRequest, company_page


@require_http_methods(["GET", "POST"])
def signin_link(request: HttpRequest, token: str) -> HttpResponse:
    """A one-time link: a page with one button, so that a mail scanner opening the link
    does not use it up; the button signs in."""
    user = signin_link_user(token)
    if user is None:
        return render(
            request,
            "portal/invitation_problem.html",
            {
                "message": "This sign-in link has expired or has been used. Ask for a new one "
                "on the sign-in page.",
                "sign_in": True,
            },
            status=410,
        )
    if request.method == "POST":
        login(request, user, backend=BACKEND)
        return redirect("index")
    return render(request, "registration/signin_link.html", {"person": user.email or user.username})


def signin_links_mail(email: str) -> bool:
    """Mail a sign-in link to a member of a company without single sign-on; False when the
    address is nobody's there."""
    members = list(
        Membership.objects.filter(user__email__iexact=email, user__is_active=True).select_related(
            "organization", "user"
        )
    )
    # someone of a company with single sign-on signs in there, never by a mailed link
    # (it would pass over their company's own sign-in rules)
    if not members or any(single_sign_on(m.organization) for m in members):
        return False
    member = members[0]
    company_mail(
        organization=member.organization,
        to=[member.user.email],
        subject=f"Your sign-in link for {member.organization.name}",
        template="signin_link",
        context={"url": signin_link_make(member.user)},
    )
    return True


@require_http_methods(["GET", "POST"])
def invitation_landing(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation mail. Signed in: it joins the company. Not signed in: for
    a company with single sign-on, signing in comes first; without, the link itself is the
    proof of the address and joining signs the person in."""
    try:
        invitation = invitation_open(token=token)
        if request.user.is_authenticated:
            return _joined(invitation_accept(token=token, user=request.user))  # type: ignore[arg-type]
        if single_sign_on(invitation.organization):
            return redirect(f"{reverse('login')}?next={request.path}")
        if request.method == "POST":
            user = user_get_or_create(
                email=invitation.email, full_name=invitation.employee.full_name
            )
            employee = invitation_accept(token=token, user=user)
            login(request, user, backend=BACKEND)
            return _joined(employee)
    except ApplicationError as exc:
        return render(
            request,
            "portal/invitation_problem.html",
            {"message": exc.message},
            status=exc.status_code,
        )
    return render(
        request,
        "registration/invitation_join.html",
        {"company_name": invitation.organization.name, "invitation": invitation},
    )


def _joined(employee: EmployeeProfile) -> HttpResponse:
    return redirect("employee-home", employee.organization.slug)


@company_page()
def mail_settings(request: CompanyRequest) -> HttpResponse:
    """The optional mail a person receives from this company, each kind on or off."""
    membership = request.membership
    kinds = _kinds_for(request)
    if request.method == "POST":
        wanted = set(request.POST.getlist("on"))
        membership.mail_off = sorted(kind for kind in kinds if kind not in wanted)
        membership.save(update_fields=["mail_off", "updated_at"])
        messages.success(request, "Your mail settings are saved.")
        return redirect("mail-settings", request.organization.slug)
    off = set(membership.mail_off or [])
    return render(
        request,
        "portal/mail_settings.html",
        {
            "kinds": [(kind, OPTIONAL[kind], kind not in off) for kind in kinds],
            "address": request.user.email,
        },
    )


def _kinds_for(request: CompanyRequest) -> list[str]:
    kinds: list[Any] = []
    if EmployeeProfile.objects.filter(
        organization=request.organization, user=request.user
    ).exists():
        kinds += ["ready", "decision", "published"]
    if request.membership.role in APPROVER_ROLES:
        kinds.append("approvals")
    return kinds
