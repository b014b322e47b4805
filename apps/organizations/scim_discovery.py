"""SCIM 2.0 discovery (RFC 7644 §4): the resource types and schemas the portal serves,
and a SCIM error for any other path, so a client can find its way before its first
request and never meets an HTML page."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.organizations.scim import ENTERPRISE, MAX_COUNT, USER, ScimError, ScimView
from apps.organizations.scim_groups import GROUP

RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def _attribute(
    name: str,
    *,
    kind: str = "string",
    required: bool = False,
    multi: bool = False,
    uniqueness: str = "none",
    mutability: str = "readWrite",
    sub: list[dict[str, Any]] | None = None,
    description: str = "",
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": name,
        "type": "complex" if sub else kind,
        "multiValued": multi,
        "description": description,
        "required": required,
        "caseExact": False,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": uniqueness,
    }
    if sub:
        found["subAttributes"] = sub
    return found


def _value_list(name: str, description: str) -> dict[str, Any]:
    return _attribute(
        name,
        multi=True,
        description=description,
        sub=[_attribute("value"), _attribute("type"), _attribute("primary", kind="boolean")],
    )


SCHEMAS = {
    USER: {
        "name": "User",
        "description": "A person of the company",
        "attributes": [
            _attribute(
                "userName",
                required=True,
                uniqueness="server",
                description="The work e-mail address, in one of the company's domains",
            ),
            _attribute(
                "name",
                sub=[_attribute("formatted"), _attribute("givenName"), _attribute("familyName")],
                description="The person's name",
            ),
            _attribute("displayName", description="The name shown on cards and pages"),
            _attribute("title", description="Job title"),
            _attribute("externalId", description="The identity provider's id for the person"),
            _value_list("emails", "Work e-mail address"),
            _value_list("phoneNumbers", "Work telephone number"),
            _attribute(
                "active",
                kind="boolean",
                description="false deprovisions the person: their access ends at once",
            ),
        ],
    },
    ENTERPRISE: {
        "name": "EnterpriseUser",
        "description": "Enterprise user",
        "attributes": [
            _attribute("department", description="Department"),
            _attribute(
                "manager",
                sub=[
                    _attribute("value", description="The manager's SCIM id or e-mail"),
                    _attribute("displayName", mutability="readOnly"),
                ],
                description="The person's manager",
            ),
        ],
    },
    GROUP: {
        "name": "Group",
        "description": "A role in the portal, read-only: given by single sign-on or HR",
        "attributes": [
            _attribute(
                "displayName",
                mutability="readOnly",
                uniqueness="server",
                description="The role's name",
            ),
            _attribute(
                "members",
                multi=True,
                mutability="readOnly",
                description="The people who hold the role",
                sub=[
                    _attribute("value", mutability="readOnly"),
                    _attribute("display", mutability="readOnly"),
                    _attribute("type", mutability="readOnly"),
                    _attribute("$ref", kind="reference", mutability="readOnly"),
                ],
            ),
        ],
    },
}


def _schema(urn: str, request: Request) -> dict[str, Any]:
    return {
        "schemas": [SCHEMA],
        "id": urn,
        **SCHEMAS[urn],
        "meta": {
            "resourceType": "Schema",
            "location": request.build_absolute_uri(
                request.path.split("/Schemas")[0] + f"/Schemas/{urn}"
            ),
        },
    }


RESOURCE_TYPES: dict[str, dict[str, Any]] = {
    "User": {
        "endpoint": "/Users",
        "description": "A person of the company",
        "schema": USER,
        "schemaExtensions": [{"schema": ENTERPRISE, "required": False}],
    },
    "Group": {
        "endpoint": "/Groups",
        "description": "A role in the portal (read-only)",
        "schema": GROUP,
    },
}


def _resource_type(name: str, request: Request) -> dict[str, Any]:
    base = request.build_absolute_uri(request.path.split("/ResourceTypes")[0] + "/")
    return {
        "schemas": [RESOURCE_TYPE],
        "id": name,
        "name": name,
        **RESOURCE_TYPES[name],
        "meta": {"resourceType": "ResourceType", "location": f"{base}ResourceTypes/{name}"},
    }


def _listed(resources: list[dict[str, Any]]) -> Response:
    return Response(
        {
            "schemas": [LIST],
            "totalResults": len(resources),
            "startIndex": 1,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


@extend_schema(exclude=True)
class ScimResourceTypes(ScimView):
    def get(self, request: Request, org: str, name: str = "") -> Response:
        if not name:
            return _listed([_resource_type(n, request) for n in RESOURCE_TYPES])
        if name not in RESOURCE_TYPES:
            raise ScimError(404, f"No resource type {name}: this service has User and Group.")
        return Response(_resource_type(name, request))


@extend_schema(exclude=True)
class ScimSchemas(ScimView):
    def get(self, request: Request, org: str, urn: str = "") -> Response:
        if not urn:
            return _listed([_schema(u, request) for u in SCHEMAS])
        if urn not in SCHEMAS:
            raise ScimError(404, f"No schema {urn}.")
        return Response(_schema(urn, request))


@extend_schema(exclude=True)
class ScimNotFound(ScimView):
    """Any other path under the company's SCIM base: a SCIM error, never a page."""

    def _missing(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise ScimError(
            404,
            "No such SCIM resource: this service has /Users, /Groups, /ResourceTypes and /Schemas.",
        )

    get = post = put = patch = delete = _missing


@extend_schema(exclude=True)
class ScimServiceProviderConfig(ScimView):
    def get(self, request: Request, org: str) -> Response:
        return Response(
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
                "patch": {"supported": True},
                "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
                "filter": {"supported": True, "maxResults": MAX_COUNT},
                "changePassword": {"supported": False},
                "sort": {"supported": False},
                "etag": {"supported": False},
                "authenticationSchemes": [
                    {
                        "type": "oauthbearertoken",
                        "name": "Company token",
                        "description": "A company API token with the scim:provision scope.",
                    }
                ],
            }
        )
