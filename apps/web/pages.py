"""What every company page shares: the signed-in person's membership in the company named
in the address, their role, and one way of turning service errors into answers."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect

from apps.core.errors import ApplicationError, NotFound, PermissionDenied
from apps.organizations.brand import brand_of
from apps.organizations.models import APPROVER_ROLES, MANAGER_ROLES, Membership, Organization

View = Callable[..., HttpResponseBase]


class SignedInRequest(HttpRequest):
    """A request to a page only signed-in people reach (``login_required``)."""

    user: User


class CompanyRequest(SignedInRequest):
    """A request to a company page, as ``company_page`` hands it to the view."""

    organization: Organization
    membership: Membership


def company_page(*, roles: Iterable[str] | None = None) -> Callable[[View], View]:
    """The view runs for members of the company ``org`` only (``request.organization``,
    ``request.membership``). A company the person does not belong to answers 404, the
    same as one that does not exist; a member whose role is not in ``roles`` gets 403."""
    allowed = frozenset(roles) if roles is not None else None

    def decorate(view: View) -> View:
        @functools.wraps(view)
        @login_required
        def wrapper(request: HttpRequest, org: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            membership = (
                Membership.objects.select_related("organization")
                .filter(organization__slug=org, user=cast(User, request.user))
                .first()
            )
            if membership is None:
                raise Http404("Not found.")
            if allowed is not None and membership.role not in allowed:
                raise DjangoPermissionDenied("Your role in this company does not allow this page.")
            company_request = cast(CompanyRequest, request)
            company_request.organization = membership.organization
            company_request.membership = membership
            try:
                return view(company_request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except PermissionDenied as exc:
                raise DjangoPermissionDenied(exc.message) from exc

        return wrapper

    return decorate


def refused(request: HttpRequest, exc: ApplicationError, to: str, *args: Any) -> HttpResponse:
    """A form the services refused: the reason shown on the page the person came from."""
    messages.error(request, exc.message)
    return redirect(to, cast(CompanyRequest, request).organization.slug, *args)


def company(request: HttpRequest) -> dict[str, Any]:
    """Template context: the company of the page, the person's role in it."""
    organization = getattr(request, "organization", None)
    if organization is None:
        return {}
    membership = cast(CompanyRequest, request).membership
    return {
        "company": organization,
        "membership": membership,
        "is_manager": membership.role in MANAGER_ROLES,
        "is_approver": membership.role in APPROVER_ROLES,
        "accent": brand_of(organization.brand).primary,  # a checked hex colour
        # the operator allowed models licensed for non-commercial research only
        "research_profile": settings.HEADSHOTS["LICENCE_PROFILE"] == "research",
    }
