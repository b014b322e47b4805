"""SCIM 2.0 (RFC 7643 / 7644) for the company's identity provider: Users with filters,
create, replace, PATCH and delete, authenticated with a company token that has the
``scim:provision`` scope. Deactivating a user (``active: false`` or DELETE)
deprovisions them: access ends, selfies and embeddings are deleted, the directory photo
is withdrawn, and it is audited."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import ApplicationError
from apps.core.parsers import SafeJSONParser
from apps.core.text import plain_number, text_problem
from apps.organizations.models import MANAGER_ROLES, EmployeeProfile, EmployeeStatus
from apps.organizations.provisioning import (
    PersonData,
    employee_deprovision,
    employee_provision,
    employee_reactivate,
    employee_update,
)
from apps.organizations.scim_patch import (
    ENTERPRISE,
    ScimError,
    active_value,
    manager_address,
    patch_changes,
)
from apps.organizations.tokens import CompanyTokenAuthentication
from apps.web.api import MAX_ID, CompanyApiView

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SOURCE = "scim"
FILTER = re.compile(
    r'^\s*(userName|externalId|emails(?:\.value)?)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.I
)
MAX_COUNT = 200


class ScimJSONParser(SafeJSONParser):
    media_type = "application/scim+json"


class ScimRenderer(JSONRenderer):
    media_type = "application/scim+json"


def managers_of(people: list[EmployeeProfile]) -> dict[str, EmployeeProfile]:
    """The managers these people name, by lower-case address, in one query (RFC 7643
    §4.3 returns a manager by their SCIM id, where the manager is one of the people here)."""
    addresses = {p.manager_email.lower() for p in people if p.manager_email}
    if not addresses:
        return {}
    found = (
        EmployeeProfile.objects.annotate(address=Lower("email"))
        .filter(
            organization_id=people[0].organization_id,
            address__in=addresses,
            scim_deleted_at__isnull=True,
        )
        .only("pk", "full_name", "email")
    )
    return {boss.email.lower(): boss for boss in found}


def user_resource(
    employee: EmployeeProfile,
    request: Request,
    managers: dict[str, EmployeeProfile] | None = None,
) -> dict[str, Any]:
    """``managers``: from ``managers_of`` for a page of users; looked up when not given."""
    given, family = employee.given_name, employee.family_name
    if not (given or family):  # not given by the identity provider: from the full name
        given, _, family = employee.full_name.partition(" ")
    resource: dict[str, Any] = {
        "schemas": [USER, ENTERPRISE],
        "id": str(employee.pk),
        "externalId": employee.external_id or None,
        "userName": employee.email,
        "name": {"formatted": employee.full_name, "givenName": given, "familyName": family},
        "displayName": employee.full_name,
        "title": employee.title or None,  # removed: absent, not ""
        "emails": [{"value": employee.email, "type": "work", "primary": True}],
        "phoneNumbers": [{"value": employee.phone, "type": "work"}] if employee.phone else [],
        "active": employee.status != EmployeeStatus.LEFT,
        ENTERPRISE: {"department": employee.department} if employee.department else {},
        "meta": {
            "resourceType": "User",
            "created": employee.created_at.isoformat(),
            "lastModified": employee.updated_at.isoformat(),
            "location": request.build_absolute_uri(
                request.path.split("/Users")[0] + f"/Users/{employee.pk}"
            ),
        },
    }
    if employee.manager_email:
        known = managers_of([employee]) if managers is None else managers
        boss = known.get(employee.manager_email.lower())
        resource[ENTERPRISE]["manager"] = (
            {"value": str(boss.pk), "displayName": boss.full_name}
            if boss is not None
            else {"value": employee.manager_email}
        )
    if not resource[ENTERPRISE]:  # nothing of the extension: unassigned, not empty
        resource["schemas"] = [USER]
        resource[ENTERPRISE] = None
    return {k: v for k, v in resource.items() if v is not None}


def projected(resource: dict[str, Any], request: Request) -> dict[str, Any]:
    """The resource with only the ``attributes`` asked for, or without the
    ``excludedAttributes`` (RFC 7644 §3.9); ``id`` and ``schemas`` always stay."""

    def names(parameter: str) -> set[str]:
        return {
            n.strip().lower()
            for n in request.query_params.get(parameter, "").split(",")
            if n.strip()
        }

    def named(key: str, among: set[str]) -> bool:  # "emails.value" and "urn:...:department" too
        key = key.lower()
        return any(n == key or n.startswith((key + ".", key + ":")) for n in among)

    wanted, dropped = names("attributes"), names("excludedAttributes")
    always = {"id", "schemas"}
    return {
        key: value
        for key, value in resource.items()
        if key in always
        or ((not wanted or named(key, wanted)) and not (dropped and key.lower() in dropped))
    }


def _person(
    body: Any, organization_id: int, current: EmployeeProfile | None = None
) -> dict[str, str]:
    """Our fields from a SCIM User (a full representation: POST and PUT)."""
    if not isinstance(body, dict):
        raise ScimError(400, "The body must be a SCIM User object.", "invalidSyntax")
    name: dict[str, Any] = body["name"] if isinstance(body.get("name"), dict) else {}
    emails: list[Any] = body["emails"] if isinstance(body.get("emails"), list) else []
    primary = next((e for e in emails if isinstance(e, dict) and e.get("primary")), None)
    email = body.get("userName") or (primary or (emails[0] if emails else {})).get("value", "")
    full_name = (
        body.get("displayName")
        or name.get("formatted")
        or " ".join(p for p in (name.get("givenName"), name.get("familyName")) if p)
        or (current.full_name if current else "")
        # a name is optional in SCIM: the address's own words until one is given
        or str(email).partition("@")[0].replace(".", " ").replace("_", " ").strip()
    )
    phones: list[Any] = body["phoneNumbers"] if isinstance(body.get("phoneNumbers"), list) else []
    enterprise: dict[str, Any] = body[ENTERPRISE] if isinstance(body.get(ENTERPRISE), dict) else {}
    manager: dict[str, Any] = (
        enterprise["manager"] if isinstance(enterprise.get("manager"), dict) else {}
    )
    return {
        "email": str(email),
        "full_name": str(full_name),
        "given_name": str(name.get("givenName") or ""),
        "family_name": str(name.get("familyName") or ""),
        "title": str(body.get("title") or ""),
        "phone": str(phones[0].get("value", "")) if phones and isinstance(phones[0], dict) else "",
        "department": str(enterprise.get("department") or ""),
        "external_id": str(body.get("externalId") or ""),
        "manager_email": manager_address(manager.get("value"), organization_id),
    }


class ScimView(CompanyApiView):
    authentication_classes = [CompanyTokenAuthentication]
    parser_classes = [ScimJSONParser, SafeJSONParser]
    renderer_classes = [ScimRenderer, JSONRenderer]
    roles = MANAGER_ROLES
    scopes = {m: "scim:provision" for m in ("GET", "POST", "PUT", "PATCH", "DELETE")}

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ApplicationError):
            exc = ScimError(
                exc.status_code, exc.message, "uniqueness" if exc.status_code == 409 else ""
            )
        response = super().handle_exception(exc)
        detail = response.data.get("detail") if isinstance(response.data, dict) else response.data
        body = {"schemas": [ERROR], "status": str(response.status_code), "detail": str(detail)}
        scim_type = getattr(exc, "scim_type", "")
        if scim_type:
            body["scimType"] = scim_type
        response.data = body
        return response

    def employee(self, pk: str) -> EmployeeProfile:
        employee = (
            EmployeeProfile.objects.filter(
                organization=self.organization, pk=int(pk), scim_deleted_at__isnull=True
            ).first()
            if plain_number(pk) and 0 < int(pk) <= MAX_ID
            else None
        )
        if employee is None:
            raise ScimError(404, f"No user {pk}.")
        return employee

    def setactive_value(self, employee: EmployeeProfile, active: bool) -> EmployeeProfile:
        if not active and employee.status != EmployeeStatus.LEFT:
            return employee_deprovision(
                organization=self.organization,
                actor=self.actor,
                employee=employee,
                source=SOURCE,
            )
        if active and employee.status == EmployeeStatus.LEFT:
            return employee_reactivate(
                organization=self.organization,
                actor=self.actor,
                employee=employee,
                source=SOURCE,
            )
        return employee


@extend_schema(exclude=True)
class ScimUsers(ScimView):
    def get(self, request: Request, org: str) -> Response:
        people: QuerySet[EmployeeProfile] = EmployeeProfile.objects.filter(
            organization=self.organization, scim_deleted_at__isnull=True
        ).order_by("pk")
        text = request.query_params.get("filter")
        if text:
            match = FILTER.match(text)
            if match is None:
                raise ScimError(
                    400,
                    'Supported filters: userName, externalId or emails.value eq "...".',
                    "invalidFilter",
                )
            attribute, value = match.group(1).lower(), match.group(2).replace('\\"', '"')
            if text_problem(value, limit=254, what="The filter value"):
                raise ScimError(400, "The filter value is not a valid name.", "invalidFilter")
            if attribute == "externalid":
                people = people.filter(external_id=value)
            else:
                people = people.filter(email__iexact=value)
        start, count = paging(request)
        total = people.count()
        page = list(people[start - 1 : start - 1 + count])
        managers = managers_of(page)
        return Response(
            {
                "schemas": [LIST],
                "totalResults": total,
                "startIndex": start,
                "itemsPerPage": len(page),
                "Resources": [
                    projected(user_resource(e, request, managers), request) for e in page
                ],
            }
        )

    def post(self, request: Request, org: str) -> Response:
        data: Any = request.data
        values = _person(data, self.organization.pk)
        email = values["email"].strip().lower()
        gone = (
            None
            if text_problem(email, limit=254, what="userName")  # checked with the rest below
            else EmployeeProfile.objects.filter(
                organization=self.organization, email=email, scim_deleted_at__isnull=False
            ).first()
        )
        if gone is not None:  # deleted before: the same person back, made anew for SCIM
            EmployeeProfile.objects.filter(pk=gone.pk).update(scim_deleted_at=None)
            gone.refresh_from_db()
            employee = employee_update(
                organization=self.organization,
                actor=self.actor,
                employee=gone,
                changes=values,
                source=SOURCE,
            )
            employee = self.setactive_value(employee, True)
        else:
            employee = employee_provision(
                organization=self.organization,
                actor=self.actor,
                data=PersonData(**values),
                source=SOURCE,
            )
        if isinstance(data, dict) and "active" in data and not active_value(data["active"]):
            employee = self.setactive_value(employee, False)
        resource = user_resource(employee, request)
        response = Response(resource, status=201)
        response["Location"] = resource["meta"]["location"]
        return response


@extend_schema(exclude=True)
class ScimUser(ScimView):
    def get(self, request: Request, org: str, pk: str) -> Response:
        return Response(projected(user_resource(self.employee(pk), request), request))

    def put(self, request: Request, org: str, pk: str) -> Response:
        employee = self.employee(pk)
        data: Any = request.data
        employee = employee_update(
            organization=self.organization,
            actor=self.actor,
            employee=employee,
            changes=_person(data, self.organization.pk, employee),
            source=SOURCE,
        )
        if isinstance(data, dict) and "active" in data:
            employee = self.setactive_value(employee, active_value(data["active"]))
        return Response(user_resource(employee, request))

    def patch(self, request: Request, org: str, pk: str) -> Response:
        employee = self.employee(pk)
        body = request.data if isinstance(request.data, dict) else {}
        operations = body.get("Operations")
        if PATCH not in (body.get("schemas") or []) or not isinstance(operations, list):
            raise ScimError(
                400, "A PATCH needs the PatchOp schema and a list of Operations.", "invalidSyntax"
            )
        changes, active = patch_changes(operations, self.organization.pk)
        if changes:
            employee = employee_update(
                organization=self.organization,
                actor=self.actor,
                employee=employee,
                changes=changes,
                source=SOURCE,
            )
        if active is not None:
            employee = self.setactive_value(employee, active)
        return Response(user_resource(employee, request))

    def delete(self, request: Request, org: str, pk: str) -> Response:
        """Deprovisioned (access, jobs, selfies, directory photo: as deactivation), and
        from now on gone to SCIM: 404 (RFC 7644 §3.6)."""
        employee = self.setactive_value(self.employee(pk), False)
        EmployeeProfile.objects.filter(pk=employee.pk).update(scim_deleted_at=timezone.now())
        return Response(status=204)


def paging(request: Request, default_count: int = 100) -> tuple[int, int]:
    """``startIndex`` and ``count`` (RFC 7644 §3.4.2.4), the count at most MAX_COUNT."""
    start = _positive(request.query_params.get("startIndex"), 1)
    count = _positive(request.query_params.get("count"), default_count, allow_zero=True)
    return start, min(count, MAX_COUNT)


def _positive(value: str | None, default: int, *, allow_zero: bool = False) -> int:
    """A paging number; below the least (a negative count, RFC 7644 §3.4.2.4) is the
    least."""
    if value in (None, ""):
        return default
    digits = value[1:] if value.startswith("-") else value
    if not plain_number(digits) or len(digits) > 9:
        raise ScimError(400, "startIndex and count are whole numbers.", "invalidValue")
    number = -int(digits) if value.startswith("-") else int(digits)
    return max(number, 0 if allow_zero else 1)
