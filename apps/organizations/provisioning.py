"""People created, changed and deprovisioned by the company's identity provider (SCIM) or
HR's roster import: one set of services whatever the source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from apps.audit.services import audit_record
from apps.core import hooks
from apps.core.errors import StateConflict, ValidationFailed
from apps.core.queue import enqueue
from apps.core.text import display_text, sentence, text_problem
from apps.organizations.models import (
    MANAGER_ROLES,
    EmployeeProfile,
    EmployeeStatus,
    Membership,
    Organization,
)
from apps.organizations.selectors import require_role

PROFILE_FIELDS = (
    "full_name",
    "given_name",
    "family_name",
    "email",
    "title",
    "department",
    "phone",
    "external_id",
    "manager_email",
)


FIELD_WORDS = {
    "full_name": "the name",
    "given_name": "the given name",
    "family_name": "the family name",
    "email": "the email address",
    "title": "the job title",
    "department": "the department",
    "phone": "the phone number",
    "external_id": "the identity provider's id",
    "manager_email": "the manager's email address",
}


@dataclass(frozen=True)
class PersonData:
    email: str
    full_name: str
    title: str = ""
    department: str = ""
    phone: str = ""
    external_id: str = ""
    manager_email: str = ""
    given_name: str = ""
    family_name: str = ""

    def problems(self, organization: Organization) -> list[str]:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        found = []
        try:
            validate_email(self.email)
        except ValidationError:
            found.append(
                f"{display_text(self.email, limit=60) or 'the address'} is not an email address"
            )
        else:
            domain = self.email.rsplit("@", 1)[1].lower()
            if organization.email_domains and domain not in organization.email_domains:
                found.append(
                    f"{self.email} is outside the company's email domains "
                    f"({', '.join(organization.email_domains)})"
                )
        if not self.full_name.strip():
            found.append("the name is missing")
        if self.manager_email:
            try:
                validate_email(self.manager_email)
            except ValidationError:
                found.append(
                    f"the manager {display_text(self.manager_email, limit=60)} is not an email address"
                )
        for name in PROFILE_FIELDS:
            column = EmployeeProfile._meta.get_field(name)
            limit = getattr(column, "max_length", None) or 200
            problem = text_problem(getattr(self, name), limit=limit, what=FIELD_WORDS[name])
            if problem:
                found.append(problem)
        return found


@transaction.atomic
def employee_provision(
    *, organization: Organization, actor: User, data: PersonData, source: str
) -> EmployeeProfile:
    """A new person of the company (they join when they first sign in)."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    problems = data.problems(organization)
    if problems:
        raise ValidationFailed(sentence("; ".join(problems)) + ".")
    values = {name: getattr(data, name).strip() for name in PROFILE_FIELDS}
    values["email"] = values["email"].lower()
    try:
        with transaction.atomic():
            employee = EmployeeProfile.objects.create(organization=organization, **values)
    except IntegrityError as exc:
        raise StateConflict(f"{values['email']} is already one of the company's people.") from exc
    audit_record(
        organization=organization,
        actor=actor,
        action="employee.provisioned",
        target=employee,
        data={"source": source},
    )
    return employee


@transaction.atomic
def employee_update(
    *,
    organization: Organization,
    actor: User,
    employee: EmployeeProfile,
    changes: dict[str, Any],
    source: str,
) -> EmployeeProfile:
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if employee.organization_id != organization.pk:
        raise StateConflict("Not found.")
    current = {name: getattr(employee, name) for name in PROFILE_FIELDS}
    wanted = {**current, **{k: (v or "") for k, v in changes.items() if k in PROFILE_FIELDS}}
    wanted["email"] = str(wanted["email"]).strip().lower()
    problems = PersonData(**{k: str(v) for k, v in wanted.items()}).problems(organization)
    if problems:
        raise ValidationFailed(sentence("; ".join(problems)) + ".")
    changed = sorted(k for k in PROFILE_FIELDS if wanted[k] != current[k])
    if not changed:
        return employee
    if (
        "email" in changed
        and EmployeeProfile.objects.filter(organization=organization, email=wanted["email"])
        .exclude(pk=employee.pk)
        .exists()
    ):
        raise StateConflict(f"{wanted['email']} is already one of the company's people.")
    for name in changed:
        setattr(employee, name, wanted[name])
    employee.save(update_fields=[*changed, "updated_at"])
    audit_record(
        organization=organization,
        actor=actor,
        action="employee.updated",
        target=employee,
        data={"source": source, "fields": changed},
    )
    return employee


def employee_deprovision(
    *, organization: Organization, actor: User, employee: EmployeeProfile, source: str
) -> EmployeeProfile:
    """The person left the company: their access ends, their jobs stop, their selfies and
    face embeddings are deleted now, and the directory sync withdraws their published
    photo (sent at once when the company has a directory)."""
    from apps.organizations.services import employee_leave

    with transaction.atomic():
        employee = employee_leave(organization=organization, actor=actor, employee=employee)
        if employee.user_id is not None:
            Membership.objects.filter(organization=organization, user_id=employee.user_id).delete()
        counts = hooks.fire(
            "biometrics.erase",
            organization=organization,
            employee=employee,
            actor=actor,
            reason=f"deprovisioned ({source})",
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="employee.deprovisioned",
            target=employee,
            data={"source": source, "selfies_deleted": counts.get("selfies", 0)},
        )
        # The sync removes their photo from the directory (it does nothing where the
        # company has none).
        enqueue("directory_sync", organization.pk)
    return employee


def employee_reactivate(
    *, organization: Organization, actor: User, employee: EmployeeProfile, source: str
) -> EmployeeProfile:
    """A person the identity provider turns back on: they join again at their next sign-in."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if employee.status != EmployeeStatus.LEFT:
        return employee
    employee.status = EmployeeStatus.INVITED
    employee.left_at = None
    employee.save(update_fields=["status", "left_at", "updated_at"])
    audit_record(
        organization=organization,
        actor=actor,
        action="employee.reactivated",
        target=employee,
        data={"source": source},
    )
    return employee
