"""Who may look at a person's private images: the person, and the approvers of their company."""

from __future__ import annotations

from django.contrib.auth.models import User

from apps.organizations.models import APPROVER_ROLES, EmployeeProfile, Membership


def may_view_person_media(*, user: User, employee: EmployeeProfile) -> bool:
    role = (
        Membership.objects.filter(organization_id=employee.organization_id, user=user)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        return False
    return employee.user_id == user.pk or role in APPROVER_ROLES
