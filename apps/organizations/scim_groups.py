"""SCIM Groups, read-only: the company's roles as groups, so an identity provider can
read who holds which role. Roles are given by the single sign-on groups claim or by HR's
pages, never written over SCIM: creating, replacing, patching or deleting a group answers
405 with what to do instead."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.organizations.models import EmployeeProfile, Membership, Role
from apps.organizations.scim import LIST, MAX_COUNT, ScimError, ScimView, paging, projected

GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
NAMES: dict[str, str] = {
    Role.ADMIN.value: "Administrators",
    Role.HR.value: "HR",
    Role.APPROVER.value: "Approvers",
    Role.EMPLOYEE.value: "Employees",
}
FILTER = re.compile(r'^\s*displayName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.I)
READ_ONLY = (
    "Groups are read-only here: roles come from the single sign-on groups claim "
    "or from HR's people pages."
)


def _members(organization_id: int, roles: list[str]) -> dict[str, list[EmployeeProfile]]:
    """The people holding each role, in two queries: members are Users (their SCIM ids),
    found by their account, or by its address before they first signed in."""
    found: dict[str, list[EmployeeProfile]] = {role: [] for role in roles}
    by_user: dict[int, str] = {}
    by_address: dict[str, str] = {}
    for user_id, address, role in Membership.objects.filter(
        organization_id=organization_id, role__in=roles
    ).values_list("user_id", "user__email", "role"):
        by_user[user_id] = role
        if address:
            by_address[address.lower()] = role
    people = (
        EmployeeProfile.objects.annotate(address=Lower("email"))
        .filter(
            Q(user_id__in=list(by_user)) | Q(address__in=list(by_address)),
            organization_id=organization_id,
            scim_deleted_at__isnull=True,
        )
        .only("pk", "full_name", "user_id", "email")
        .order_by("pk")
    )
    for person in people:
        role = by_user.get(person.user_id or 0) or by_address.get(person.email.lower(), "")
        if role in found:
            found[role].append(person)
    return found


def group_resource(role: str, members: list[EmployeeProfile], request: Request) -> dict[str, Any]:
    base = request.build_absolute_uri(request.path.split("/Groups")[0] + "/")
    return {
        "schemas": [GROUP],
        "id": role,
        "displayName": NAMES[role],
        "members": [
            {
                "value": str(person.pk),
                "display": person.full_name,
                "type": "User",
                "$ref": f"{base}Users/{person.pk}",
            }
            for person in members
        ],
        "meta": {"resourceType": "Group", "location": f"{base}Groups/{role}"},
    }


@extend_schema(exclude=True)
class ScimGroups(ScimView):
    def get(self, request: Request, org: str) -> Response:
        roles = list(NAMES)
        text = request.query_params.get("filter")
        if text:
            match = FILTER.match(text)
            if match is None:
                raise ScimError(400, 'Supported filter: displayName eq "...".', "invalidFilter")
            wanted = match.group(1).replace('\\"', '"').lower()
            roles = [role for role in roles if NAMES[role].lower() == wanted]
        start, count = paging(request, default_count=MAX_COUNT)
        page = roles[start - 1 : start - 1 + count]
        members = _members(self.organization.pk, page)
        return Response(
            {
                "schemas": [LIST],
                "totalResults": len(roles),
                "startIndex": start,
                "itemsPerPage": len(page),
                "Resources": [
                    projected(group_resource(role, members[role], request), request)
                    for role in page
                ],
            }
        )

    def post(self, request: Request, org: str) -> Response:
        raise ScimError(405, READ_ONLY)


@extend_schema(exclude=True)
class ScimGroup(ScimView):
    def get(self, request: Request, org: str, pk: str) -> Response:
        if pk not in NAMES:
            raise ScimError(404, f"No group {pk}: the groups are {', '.join(NAMES)}.")
        members = _members(self.organization.pk, [pk])
        return Response(projected(group_resource(pk, members[pk], request), request))

    def _read_only(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise ScimError(405, READ_ONLY)

    put = patch = delete = _read_only
