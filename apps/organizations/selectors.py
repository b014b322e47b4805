from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db.models import QuerySet

from apps.core.errors import PermissionDenied, found
from apps.organizations.models import EmployeeProfile, Membership, Organization


def membership_get(*, organization: Organization, user: User) -> Membership:
    """The user's membership in this company; outsiders get NotFound, never a hint."""
    return found(Membership.objects.filter(organization=organization, user=user))


def require_role(*, organization: Organization, user: User, roles: Iterable[str]) -> Membership:
    membership = membership_get(organization=organization, user=user)
    if membership.role not in set(roles):
        raise PermissionDenied("Your role in this company does not allow this action.")
    return membership


def require_self(*, organization: Organization, employee: EmployeeProfile, actor: User) -> None:
    """A person's own steps (consent, selfies, their data): nobody does them for someone
    else, HR included."""
    membership_get(organization=organization, user=actor)
    if employee.organization_id != organization.pk or employee.user_id != actor.pk:
        raise PermissionDenied("Only the person themselves can do this.")


def organizations_for_user(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(
        pk__in=Membership.objects.filter(user=user).values("organization")
    )


def employee_get(*, organization: Organization, pk: int) -> EmployeeProfile:
    return found(EmployeeProfile.objects.filter(organization=organization, pk=pk))


def employee_for_user(*, organization: Organization, user: User) -> EmployeeProfile:
    return found(
        EmployeeProfile.objects.filter(organization=organization, user=user),
        "You have no employee profile in this company.",
    )


def employee_list(
    *, organization: Organization, department: str | None = None
) -> QuerySet[EmployeeProfile]:
    employees = EmployeeProfile.objects.filter(organization=organization).order_by("full_name")
    if department:
        employees = employees.filter(department=department)
    return employees
