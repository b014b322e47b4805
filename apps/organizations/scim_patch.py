"""What a SCIM PATCH operation's paths mean here: the field each sets, values given as
objects for their parts, and the value written."""

from __future__ import annotations

from typing import Any

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
