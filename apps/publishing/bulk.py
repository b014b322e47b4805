"""Publishing from HR's pages: one person, a selection or a department at once, and, when
the company asks for it, as soon as HR approves. Each person gets the targets a request
can make: the business card, and the directory export where a directory is configured
(the live directory photo follows from the directory sync)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from apps.audit.services import audit_record
from apps.core.errors import NotFound, ValidationFailed
from apps.core.text import text_problem
from apps.generation.models import Headshot
from apps.generation.selectors import headshots_approved_latest
from apps.organizations.models import MANAGER_ROLES, EmployeeStatus, Organization
from apps.organizations.selectors import require_role
from apps.publishing.models import DirectoryConnection, PublicationTarget
from apps.publishing.services import publication_request

MAX_AT_ONCE = 2000


def publication_targets(organization: Organization) -> list[str]:
    """What a publication request makes for this company."""
    targets = [PublicationTarget.BUSINESS_CARD]
    if DirectoryConnection.objects.filter(organization=organization).exists():
        targets.append(PublicationTarget.DIRECTORY_EXPORT)
    return [str(t) for t in targets]


@transaction.atomic
def headshots_publish(
    *, organization: Organization, actor: User, employee_ids: list[int] | None = None,
    department: str | None = None,
) -> int:  # fmt: skip
    """Publish the latest approved headshot of the chosen people (by id) or of a
    department's active people. Returns how many people."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if employee_ids is None and department is None:
        raise ValidationFailed("Choose the people to publish, or a department.")
    filters: dict[str, Any] = {"employee__status": EmployeeStatus.ACTIVE}
    if employee_ids is not None:
        if not employee_ids:
            raise ValidationFailed("Tick the people to publish first.")
        filters["employee_id__in"] = employee_ids[:MAX_AT_ONCE]
    if department is not None:
        problem = text_problem(department, limit=200, what="The department")
        if problem:
            raise ValidationFailed(problem + ".")
        filters["employee__department"] = department
    latest = headshots_approved_latest(organization=organization, **filters)
    if not latest:
        raise NotFound(
            "Nobody chosen has an approved headshot yet."
            if department is None
            else f"Nobody in {department} has an approved headshot yet."
        )
    targets = publication_targets(organization)
    for headshot in latest:
        _publish(organization, actor, headshot, targets)
    audit_record(
        organization=organization,
        actor=actor,
        action="publications.requested",
        target=organization,
        data={"people": len(latest), "department": department or ""},
    )
    return len(latest)


def publish_on_approval(
    *, organization: Organization, headshot: Headshot, actor: User
) -> dict[str, int]:
    """The ``headshot.approved`` hook: the company's choice to publish at once."""
    if not organization.publish_on_approval:
        return {}
    targets = publication_targets(organization)
    _publish(organization, actor, headshot, targets)
    return {"publications": len(targets)}


def _publish(
    organization: Organization, actor: User, headshot: Headshot, targets: list[str]
) -> None:
    """A publication of the headshot on each of ``targets``."""
    for target in targets:
        publication_request(
            organization=organization, actor=actor, headshot=headshot, target=target
        )
