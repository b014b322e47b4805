"""What every company API view shares: the company from the address, the caller's
membership and role, the token's scopes, and service errors turned into answers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from django.contrib.auth.models import User
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.errors import ApplicationError
from apps.core.text import plain_number
from apps.organizations.models import ApiToken, Membership, Organization
from apps.organizations.tokens import token_scopes


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Service errors keep their status and message; a missing or foreign row is the same
    plain 404 everywhere."""
    if isinstance(exc, ApplicationError):
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code, **exc.extra}
        response = Response(body, status=exc.status_code)
        if "retry_after" in exc.extra:
            response["Retry-After"] = str(exc.extra["retry_after"])
        return response
    if isinstance(exc, Http404 | exceptions.NotFound):
        return Response({"detail": "Not found.", "code": "not_found"}, status=404)
    return drf_exception_handler(exc, context)


class Pages(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        """A page, and the total without a second query when this page holds the end of
        the list (a job's gallery, a short list: most answers). Only a full page
        with more to come counts the rest in the database."""
        self.request = request
        self.limit = limit = self.get_limit(request) or self.default_limit
        self.offset = offset = self.get_offset(request)
        if offset > MAX_ID:  # past any list, and past what a database takes as an offset
            self.count = self.get_count(queryset)
            self.display_page_controls = True
            return []
        items = list(queryset[offset : offset + limit])
        if len(items) < limit and (items or offset == 0):
            self.count = offset + len(items)
        else:
            self.count = self.get_count(queryset)
        self.display_page_controls = self.count > limit
        return items


# What every list operation takes and answers, for the schema (and the clients made from it).
PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit",
        int,
        description=f"How many items (default {Pages.default_limit}, at most {Pages.max_limit}).",
    ),
    OpenApiParameter("offset", int, description="How many items to skip (0 for the first page)."),
]


@functools.cache
def paged(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """A page of ``item`` as list operations answer it: the total count, links to the next
    and previous pages (null at the ends) and the items."""
    name = item.__name__.removesuffix("Output") + "Page"
    return type(
        name,
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(help_text="How many items there are in all."),
            "next": serializers.URLField(allow_null=True, help_text="The next page, if any."),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous page, if any."
            ),
            "results": item(many=True),
        },
    )


class CompanyApiView(APIView):
    # ``scopes`` maps an HTTP method to the token scope it needs (a method missing from it
    # is for signed-in people only, never for tokens); ``roles`` limits the view to members
    # with those roles. A company the caller is not in answers 404, like a missing one.
    # (A comment, not a docstring: the API's documentation shows each view's own words.)

    scopes: dict[str, str] = {}
    roles: frozenset[str] | None = None

    organization: Organization
    membership: Membership

    @property
    def actor(self) -> User:
        """The person the request acts as: signed in, or the maker of the company token
        (every view needs an authenticated caller, so never anonymous here)."""
        return cast(User, self.request.user)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        try:
            membership = Membership.objects.select_related("organization").get(
                organization__slug=kwargs.get("org", ""), user=cast(User, request.user)
            )
        except Membership.DoesNotExist:
            membership = None
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if membership is None or (token and token.organization_id != membership.organization_id):
            raise exceptions.NotFound()
        granted = token_scopes(request)
        if granted is not None:
            needed = self.scopes.get(request.method or "")
            if needed is None:
                raise exceptions.PermissionDenied(
                    "This operation is for signed-in people, not tokens."
                )
            if needed not in granted:
                raise exceptions.PermissionDenied(f"This token lacks the scope {needed}.")
        if self.roles is not None and membership.role not in self.roles:
            raise exceptions.PermissionDenied("Your role in this company does not allow this.")
        self.organization = membership.organization
        self.membership = membership

    def page(
        self,
        request: Request,
        queryset: Any,
        serializer: Any,
        load: Callable[[list[Any]], list[Any]] | None = None,
    ) -> Response:
        """One page of ``queryset`` (or of a list); ``load`` completes the page's items
        before they are written (what a whole list need not carry)."""
        pages = Pages()
        items = pages.paginate_queryset(queryset, request, view=self)
        if load is not None:
            items = load(items)
        return pages.get_paginated_response(serializer(items, many=True).data)


MAX_ID = 10**18 - 1


def id_param(request: Request, name: str) -> int | None:
    """An optional id from the query string; a value that is not one is a 400."""
    from apps.core.errors import ValidationFailed

    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if not plain_number(value) or not 0 < int(value) <= MAX_ID:
        raise ValidationFailed(f"{name} must be an id (a positive whole number).")
    return int(value)


def choice_param(request: Request, name: str, choices: list[str]) -> str | None:
    from apps.core.errors import ValidationFailed

    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if value not in choices:
        raise ValidationFailed(f"{name} must be one of {', '.join(choices)}.")
    return value
