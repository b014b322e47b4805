"""The person's and the approvers' decisions on headshots (pick, approve, reject), and
what happens to a person's headshots when their face must no longer be used."""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core import hooks
from apps.core.errors import NotFound, PermissionDenied, StateConflict, ValidationFailed
from apps.core.queue import enqueue
from apps.core.storage import private_delete_all
from apps.core.text import text_problem
from apps.generation.models import (
    GenerationJob,
    Headshot,
    HeadshotStatus,
    JobStatus,
)
from apps.generation.notifications import decision_mail_later
from apps.generation.services.prints import headshot_print_request
from apps.organizations.models import (
    APPROVER_ROLES,
    EmployeeProfile,
    EmployeeStatus,
    Organization,
)
from apps.organizations.selectors import membership_get, require_role
from apps.photos.selectors import consent_standing

logger = logging.getLogger(__name__)
REASON_MAX = 500  # Headshot.rejection_reason


# -- pick, approve, reject -----------------------------------------------------------------------------
@transaction.atomic
def headshot_pick(*, organization: Organization, actor: User, headshot: Headshot) -> Headshot:
    membership_get(organization=organization, user=actor)
    headshot = (
        Headshot.objects.select_for_update().select_related("employee", "job").get(pk=headshot.pk)
    )
    if headshot.organization_id != organization.pk:
        raise NotFound("Not found.")
    if headshot.employee.user_id != actor.pk:
        raise PermissionDenied("Only the person in the headshot can pick it.")
    _require_consent(organization, headshot)
    if headshot.status == HeadshotStatus.PICKED:
        return headshot
    if headshot.status != HeadshotStatus.CANDIDATE or headshot.job.status != JobStatus.SUCCEEDED:
        raise StateConflict(
            f"This headshot is {headshot.status}; only a new candidate can be picked."
        )
    if not headshot.accepted:
        raise StateConflict(
            f"This candidate did not pass our checks ({headshot.reason}); pick another one."
        )
    headshot.status = HeadshotStatus.PICKED
    headshot.picked_at = timezone.now()
    headshot.save(update_fields=["status", "picked_at", "updated_at"])
    audit_record(organization=organization, actor=actor, action="headshot.picked", target=headshot)
    headshot_print_request(headshot)  # cards and print need it: made while HR decides
    return headshot


@transaction.atomic
def headshot_approve(*, organization: Organization, actor: User, headshot: Headshot) -> Headshot:
    require_role(organization=organization, user=actor, roles=APPROVER_ROLES)
    headshot = Headshot.objects.select_for_update().select_related("employee").get(pk=headshot.pk)
    if headshot.organization_id != organization.pk:
        raise NotFound("Not found.")
    _require_other_decider(headshot, actor)
    _require_consent(organization, headshot)
    if headshot.status == HeadshotStatus.APPROVED:
        return headshot
    if headshot.status != HeadshotStatus.PICKED:
        raise StateConflict(
            f"This headshot is {headshot.status}; only a headshot the person picked can be approved."
        )
    headshot.status = HeadshotStatus.APPROVED
    headshot.decided_by = actor
    headshot.decided_at = timezone.now()
    headshot.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    headshot_print_request(headshot)  # when the pick's try failed, or came before prints
    audit_record(
        organization=organization,
        actor=actor,
        action="headshot.approved",
        target=headshot,
        data={"employee": headshot.employee_id},
    )
    from apps.webhooks.services import webhook_emit

    webhook_emit(
        organization=organization,
        event="headshot.approved",
        data={
            "headshot": headshot.pk,
            "employee": {"id": headshot.employee_id, "email": headshot.employee.email},
            "approved_by": getattr(actor, "email", ""),
        },
    )
    decision_mail_later(headshot)
    hooks.fire("headshot.approved", organization=organization, headshot=headshot, actor=actor)
    return headshot


@transaction.atomic
def headshot_reject(
    *, organization: Organization, actor: User, headshot: Headshot, reason: str
) -> Headshot:
    require_role(organization=organization, user=actor, roles=APPROVER_ROLES)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Say why the headshot is rejected; the person sees the reason.")
    problem = text_problem(reason, limit=REASON_MAX, what="The reason", multiline=True)
    if problem:
        raise ValidationFailed(problem + ".")
    headshot = Headshot.objects.select_for_update().select_related("employee").get(pk=headshot.pk)
    if headshot.organization_id != organization.pk:
        raise NotFound("Not found.")
    _require_other_decider(headshot, actor)
    if headshot.status not in (HeadshotStatus.CANDIDATE, HeadshotStatus.PICKED):
        raise StateConflict(f"This headshot is {headshot.status}; it can no longer be rejected.")
    headshot.status = HeadshotStatus.REJECTED
    headshot.rejection_reason = reason
    headshot.decided_by = actor
    headshot.decided_at = timezone.now()
    headshot.save(
        update_fields=["status", "rejection_reason", "decided_by", "decided_at", "updated_at"]
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="headshot.rejected",
        target=headshot,
        data={"reason": headshot.rejection_reason},
    )
    decision_mail_later(headshot)
    return headshot


def _require_other_decider(headshot: Headshot, actor: User) -> None:
    """Nobody decides on their own picture: another approver of the company does."""
    if headshot.employee.user_id is not None and headshot.employee.user_id == actor.pk:
        raise PermissionDenied(
            "You cannot approve or reject your own headshot; another approver decides on it."
        )


def _require_consent(organization: Organization, headshot: Headshot) -> None:
    if headshot.employee.status == EmployeeStatus.LEFT:
        raise StateConflict("This person has left the company: their headshots are not used.")
    if not consent_standing(organization=organization, employee=headshot.employee):
        raise StateConflict(
            "This person has withdrawn their consent: their headshots can no longer be used."
        )


def employee_headshots_delete(*, organization: Organization, employee: EmployeeProfile) -> int:
    """Stop every use of a person's generated headshots (consent withdrawn, their data
    deleted, a leaver purged). Headshots and jobs are deleted with their files, except a
    headshot still in the company's directory: its image and the cards and exports made
    from it are deleted now, it is marked withdrawn (nobody can pick, approve or publish
    it), and the directory sync, sent now, removes the photo from the directory. Returns
    how many headshots were deleted or withdrawn."""
    from apps.publishing.models import LIVE_DIRECTORY_TARGETS, Publication, PublicationStatus

    publications = Publication.objects.select_for_update().filter(
        organization=organization, employee=employee
    )
    names = [p.artifact.name for p in publications if p.artifact]
    in_directory = set(
        publications.filter(
            target__in=LIVE_DIRECTORY_TARGETS, status=PublicationStatus.SUCCEEDED
        ).values_list("headshot_id", flat=True)
    )
    # Cards and exports are files we hold: they go now. A directory photo stays recorded
    # until the sync has removed it.
    publications.exclude(headshot_id__in=in_directory).delete()
    publications.filter(headshot_id__in=in_directory).exclude(
        target__in=LIVE_DIRECTORY_TARGETS, status=PublicationStatus.SUCCEEDED
    ).delete()
    headshots = Headshot.objects.filter(organization=organization, employee=employee)
    names += [name for h in headshots for name in h.stored_files()]
    count = headshots.exclude(status=HeadshotStatus.WITHDRAWN).count()  # not counted twice
    headshots.exclude(pk__in=in_directory).delete()
    headshots.filter(pk__in=in_directory).update(
        status=HeadshotStatus.WITHDRAWN,
        image="",
        print_image="",
        print_state="",
        updated_at=timezone.now(),
    )
    GenerationJob.objects.filter(organization=organization, employee=employee).exclude(
        headshots__pk__in=in_directory
    ).delete()
    transaction.on_commit(lambda: private_delete_all(names))
    if in_directory:
        enqueue("directory_sync", organization.pk)
    return count
