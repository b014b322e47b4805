"""What a SCIM PATCH means here: the field each path sets, values given as objects for
their parts, the value written, and what removing an attribute does."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions

from apps.core.text import plain_number
from apps.organizations.models import EmployeeProfile
from apps.web.api import MAX_ID

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

PATCH_PATHS = {
    "active": "active",
    "username": "email",
    'emails[type eq "work"].value': "email",
    "emails": "email",
    "displayname": "full_name",
    "name.formatted": "full_name",
    "name.givenname": "given_name",
    "name.familyname": "family_name",
    "title": "title",
    "externalid": "external_id",
    'phonenumbers[type eq "work"].value': "phone",
    "phonenumbers": "phone",
    f"{ENTERPRISE}:department".lower(): "department",
    f"{ENTERPRISE}:manager".lower(): "manager_email",
    f"{ENTERPRISE}:manager.value".lower(): "manager_email",
}


def flattened(updates: dict[str, Any]) -> list[tuple[str, Any]]:
    """PATCH values with an object for ``name`` or the enterprise extension (Okta's and
    Entra's shapes) as the paths of their parts."""
    found: list[tuple[str, Any]] = []
    for key, item in updates.items():
        lowered = str(key).lower()
        if lowered in {"name", ENTERPRISE.lower()} and isinstance(item, dict):
            joiner = "." if lowered == "name" else ":"
            found += [(f"{key}{joiner}{part}", value) for part, value in item.items()]
        else:
            found.append((str(key), item))
    return found


def patch_field(path: str) -> str | None:
    """Our field for a PATCH path; attributes we do not keep (a nickname, say) are ignored,
    as RFC 7644 lets a service provider do."""
    return PATCH_PATHS.get(path.strip().lower())


def patch_value(value: Any) -> str:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        value = value.get("value", "")
    return "" if value is None else str(value)


class ScimError(exceptions.APIException):
    def __init__(self, status: int, detail: str, scim_type: str = "") -> None:
        super().__init__(detail)
        self.status_code = status
        self.scim_type = scim_type


def manager_address(value: Any, organization_id: int) -> str:
    """The manager as we keep them (an address): RFC 7643's manager value is the manager's
    SCIM id (what Entra ID sends); an address is taken as it is."""
    if isinstance(value, dict):
        value = value.get("value")
    text = str(value or "").strip()
    if plain_number(text) and 0 < int(text) <= MAX_ID:
        boss = EmployeeProfile.objects.filter(organization_id=organization_id, pk=int(text)).first()
        if boss is None:
            raise ScimError(400, f"No user {text} to be the manager.", "invalidValue")
        return boss.email
    return text


def active_value(value: Any) -> bool:
    """Azure AD sends "True" / "False" as strings."""
    if isinstance(value, str):
        if value.lower() not in {"true", "false"}:
            raise ScimError(400, "active must be true or false.", "invalidValue")
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise ScimError(400, "active must be true or false.", "invalidValue")
    return value


# What removing a whole complex attribute clears (RFC 7644 §3.5.2.2).
REMOVED_WHOLE = {
    "name": ("given_name", "family_name"),
    ENTERPRISE.lower(): ("department", "manager_email"),
}
# Kept on remove, as the README's integration section says: a person always has a name
# and an address, and only an explicit ``active: false`` deprovisions (it deletes selfies).
NEVER_UNASSIGNED = {"active", "full_name"}


def patch_changes(
    operations: list[Any], organization_id: int
) -> tuple[dict[str, Any], bool | None]:
    """The fields a PATCH's operations change, and ``active`` when one sets it."""
    changes: dict[str, Any] = {}
    active: bool | None = None
    for operation in operations:
        if not isinstance(operation, dict):
            raise ScimError(400, "Each operation is an object.", "invalidSyntax")
        op = str(operation.get("op", "")).lower()
        if op not in {"add", "replace", "remove"}:
            raise ScimError(400, f"Unsupported operation {op!r}.", "invalidSyntax")
        path, value = operation.get("path"), operation.get("value")
        if op == "remove" and str(path or "").strip().lower() in REMOVED_WHOLE:
            changes.update(dict.fromkeys(REMOVED_WHOLE[str(path).strip().lower()], ""))
            continue
        updates = {path: value} if path else value
        if not isinstance(updates, dict):
            raise ScimError(
                400, "An operation without a path needs an object value.", "invalidValue"
            )
        for key, item in flattened(updates):
            field = patch_field(key)
            if op == "remove" and field in NEVER_UNASSIGNED:
                continue
            if op == "remove" and field == "email":
                raise ScimError(
                    400,
                    "The work address is the person's user name: it can be replaced, not removed.",
                    "mutability",
                )
            if op == "remove":
                item = ""
            if field == "active":
                active = active_value(item)
            elif field == "manager_email" and item != "":
                changes[field] = manager_address(item, organization_id)
            elif field is not None:
                changes[field] = patch_value(item)
    return changes, active
