"""The mail a headshot's journey sends: "ready to pick" to the person, "approved" or
"sent back" with HR's reason, and to approvers one mail at most an hour listing what
waits for them. Each kind can be turned off on the person's mail settings page; a mail
that cannot be sent is logged and never stops the work that triggered it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from apps.core.mail import portal_url
from apps.generation.models import GenerationJob, Headshot, HeadshotStatus
from apps.generation.selectors import approval_queue
from apps.organizations.models import APPROVER_ROLES, Membership, Organization
from apps.organizations.notifications import member_mail, member_mail_later

logger = logging.getLogger(__name__)
APPROVALS_EVERY = timedelta(hours=1)


def ready_mail_later(job: GenerationJob, *, accepted: int) -> None:
    """After the job's transaction: tell the person their headshots are ready to pick."""
    if accepted <= 0:
        return
    organization, employee = job.organization, job.employee
    member_mail_later(
        organization=organization,
        user=employee.user,
        kind="ready",
        subject="Your headshots are ready to pick",
        template="ready",
        context={
            "name": employee.full_name,
            "count": accepted,
            "url": portal_url(reverse("job", args=[organization.slug, job.pk])),
        },
    )


def decision_mail_later(headshot: Headshot) -> None:
    """After the decision's transaction: tell the person HR approved or sent back."""
    organization, employee = headshot.organization, headshot.employee
    approved = headshot.status == HeadshotStatus.APPROVED
    member_mail_later(
        organization=organization,
        user=employee.user,
        kind="decision",
        subject="Your headshot is approved"
        if approved
        else "Your headshot was sent back, with HR's reason",
        template="decision",
        context={
            "name": employee.full_name,
            "approved": approved,
            "reason": headshot.rejection_reason,
            "url": portal_url(reverse("employee-home", args=[organization.slug])),
        },
    )


def approval_mails_send(*, now: datetime | None = None) -> int:
    """One mail to each approver with headshots waiting that they were not told about,
    at most one an hour each. Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    approvers = Membership.objects.filter(role__in=APPROVER_ROLES).select_related(
        "organization", "user"
    )
    for membership in approvers:
        last = membership.approvals_mailed_at
        if last is not None and now - last < APPROVALS_EVERY:
            continue
        waiting = approval_queue(organization=membership.organization).exclude(
            employee__user=membership.user  # nobody approves their own
        )
        new = waiting if last is None else waiting.filter(picked_at__gt=last)
        if not new.exists():
            continue
        if _approvals_mail(
            membership.organization, membership, list(waiting[:10]), waiting.count()
        ):
            sent += 1
        Membership.objects.filter(pk=membership.pk).update(approvals_mailed_at=now)
    return sent


def _approvals_mail(
    organization: Organization, membership: Membership, first: list[Headshot], count: int
) -> bool:
    try:
        return member_mail(
            organization=organization,
            user=membership.user,
            kind="approvals",
            subject=f"{count} headshot{'s' if count != 1 else ''} waiting for your approval",
            template="approvals",
            context={
                "count": count,
                "names": [h.employee.full_name for h in first],
                "more": max(0, count - len(first)),
                "url": portal_url(reverse("approval-queue", args=[organization.slug])),
            },
        )
    except Exception:
        logger.exception("the approvals mail could not be sent")
        return False
