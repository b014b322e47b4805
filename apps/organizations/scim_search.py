"""SCIM searches by POST (RFC 7644 §3.4.3): ``/Users/.search`` and ``/Groups/.search``
take the query's parameters in a SearchRequest body and answer as the GET would."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.organizations.scim import ScimError, ScimUsers
from apps.organizations.scim_groups import ScimGroups

SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PARAMETERS = ("filter", "startIndex", "count", "attributes", "excludedAttributes")


def search_parameters(body: Any) -> QueryDict:
    """The SearchRequest as the query string a GET would carry."""
    if not isinstance(body, dict) or SEARCH not in (body.get("schemas") or []):
        raise ScimError(400, "A search needs the SearchRequest schema.", "invalidSyntax")
    found = QueryDict(mutable=True)
    for name in PARAMETERS:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, list):
            value = ",".join(str(item) for item in value)
        if isinstance(value, dict | bool):
            raise ScimError(400, f"{name} is a text or a number.", "invalidValue")
        found[name] = str(value)
    return found


def _searched(view: Any, request: Request, org: str) -> Response:
    request._request.GET = search_parameters(request.data)  # type: ignore[assignment]
    return view.get(request, org)


@extend_schema(exclude=True)
class ScimUsersSearch(ScimUsers):
    http_method_names = ["post"]

    def post(self, request: Request, org: str) -> Response:
        return _searched(self, request, org)


@extend_schema(exclude=True)
class ScimGroupsSearch(ScimGroups):
    http_method_names = ["post"]

    def post(self, request: Request, org: str) -> Response:
        return _searched(self, request, org)


@extend_schema(exclude=True)
class ScimRootSearch(ScimGroups):
    """A search across resource types at once: not done here (RFC 7644 §3.12's 501)."""

    http_method_names = ["post"]

    def post(self, request: Request, org: str) -> Response:
        raise ScimError(
            501, "Search one resource type at a time: /Users/.search or /Groups/.search."
        )
