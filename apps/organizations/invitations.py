"""Inviting people: invitations by e-mail (resend, revoke, one reminder) and shareable
invite links with a use cap and an expiry. (HR's roster import is in ``roster``.)"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import NotFound, PermissionDenied, StateConflict, ValidationFailed
from apps.core.mail import portal_url
from apps.organizations.models import (
    MANAGER_ROLES,
    EmployeeProfile,
    EmployeeStatus,
    Invitation,
    InviteLink,
    Membership,
    Organization,
    Role,
)
from apps.organizations.notifications import company_mail, single_sign_on
from apps.organizations.provisioning import PersonData
from apps.organizations.selectors import require_role
from apps.organizations.services import invitation_create


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_send(*, invitation: Invitation, token: str, reminder: bool = False) -> None:
    organization = invitation.organization
    subject = (
        f"Reminder: your professional headshot at {organization.name}"
        if reminder
        else f"{organization.name} invites you to make your professional headshot"
    )
    company_mail(
        organization=organization,
        to=[invitation.email],
        subject=subject,
        template="invitation",
        context={
            "name": invitation.employee.full_name,
            "url": portal_url(reverse("invitation", args=[token])),
            "expires": invitation.expires_at,
            "reminder": reminder,
            "single_sign_on": single_sign_on(organization),
        },
    )
    field_name = "reminded_at" if reminder else "sent_at"
    Invitation.objects.filter(pk=invitation.pk).update(**{field_name: timezone.now()})


def invitation_invite(
    *,
    organization: Organization,
    actor: User,
    data: PersonData,
    role: str = Role.EMPLOYEE,
) -> Invitation:
    """Invite one person and e-mail them the link (sent once the invitation is saved)."""
    invitation, token = invitation_create(
        organization=organization,
        invited_by=actor,
        email=data.email,
        full_name=data.full_name,
        title=data.title,
        department=data.department,
        phone=data.phone,
        role=role,
    )
    if data.manager_email or data.external_id:
        EmployeeProfile.objects.filter(pk=invitation.employee_id).update(
            manager_email=data.manager_email, external_id=data.external_id
        )
    transaction.on_commit(lambda: invitation_send(invitation=invitation, token=token))
    return invitation


def _still_open(organization: Organization, actor: User, invitation: Invitation) -> None:
    """HR may act on this company's invitation, and the person has not joined yet."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if invitation.organization_id != organization.pk:
        raise NotFound("Not found.")
    if invitation.accepted_at is not None:
        raise StateConflict(f"{invitation.email} has already joined.")


@transaction.atomic
def invitation_resend(
    *, organization: Organization, actor: User, invitation: Invitation
) -> Invitation:
    """A new link (the old one stops working) with a fresh expiry, e-mailed again."""
    _still_open(organization, actor, invitation)
    employee = invitation.employee
    fresh, token = invitation_create(
        organization=organization,
        invited_by=actor,
        email=employee.email,
        full_name=employee.full_name,
        title=employee.title,
        department=employee.department,
        phone=employee.phone,
        role=invitation.role,
    )
    transaction.on_commit(lambda: invitation_send(invitation=fresh, token=token))
    return fresh


@transaction.atomic
def invitation_revoke(*, organization: Organization, actor: User, invitation: Invitation) -> None:
    _still_open(organization, actor, invitation)
    Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    audit_record(
        organization=organization, actor=actor, action="invitation.revoked", target=invitation
    )


def invitation_reminders_send(*, now: datetime | None = None) -> int:
    """One reminder for each invitation unanswered for the company's reminder delay (a new
    link: only hashes of the old ones are kept). Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    due = Invitation.objects.filter(
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        reminded_at__isnull=True,
        expires_at__gt=now,
        organization__invitation_reminder_days__gt=0,
    ).select_related("organization", "employee")
    for invitation in due:
        if invitation.created_at > now - timedelta(
            days=invitation.organization.invitation_reminder_days
        ):
            continue
        with transaction.atomic():
            token = secrets.token_urlsafe(32)
            claimed = Invitation.objects.filter(pk=invitation.pk, reminded_at__isnull=True).update(
                token_hash=_digest(token), reminded_at=now
            )
            if not claimed:
                continue
            invitation.refresh_from_db()
            transaction.on_commit(
                functools.partial(
                    invitation_send, invitation=invitation, token=token, reminder=True
                )
            )
        sent += 1
    return sent


# -- invite links ---------------------------------------------------------------------------------
@transaction.atomic
def invite_link_create(
    *, organization: Organization, actor: User, max_uses: int, days: int
) -> tuple[InviteLink, str]:
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if not organization.email_domains:
        raise ValidationFailed(
            "Add the company's email domains first: an invite link admits only them."
        )
    if not 1 <= max_uses <= 10_000:
        raise ValidationFailed("A link admits between 1 and 10,000 people.")
    if not 1 <= days <= 90:
        raise ValidationFailed("A link lasts between 1 and 90 days.")
    token = secrets.token_urlsafe(24)
    link = InviteLink.objects.create(
        organization=organization,
        token_hash=_digest(token),
        max_uses=max_uses,
        expires_at=timezone.now() + timedelta(days=days),
        created_by=actor,
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="invite_link.created",
        target=link,
        data={"max_uses": max_uses, "days": days},
    )
    return link, token


@transaction.atomic
def invite_link_revoke(*, organization: Organization, actor: User, link_id: int) -> InviteLink:
    """The link stops admitting anyone (those who joined through it stay)."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    link = (
        InviteLink.objects.select_for_update()
        .filter(organization=organization, pk=link_id, revoked_at__isnull=True)
        .first()
    )
    if link is None:
        raise NotFound("This link does not exist or was already revoked.")
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        organization=organization,
        actor=actor,
        action="invite_link.revoked",
        target=link,
        data={"uses": link.uses},
    )
    return link


@transaction.atomic
def invite_link_join(*, token: str, user: User) -> EmployeeProfile:
    """The signed-in person joins the link's company, if their address is in its domains."""
    link = (
        InviteLink.objects.select_related("organization").filter(token_hash=_digest(token)).first()
    )
    now = timezone.now()
    if link is None or link.revoked_at is not None:
        raise NotFound("This link is not valid. Ask your HR team for a new one.")
    if link.expires_at <= now:
        raise StateConflict("This link has expired. Ask your HR team for a new one.")
    organization = link.organization
    email = (getattr(user, "email", "") or "").strip().lower()
    domain = email.rsplit("@", 1)[-1] if "@" in email else ""
    if domain not in organization.email_domains:
        raise PermissionDenied(
            f"This link is for {organization.name} addresses ({', '.join(organization.email_domains)}); "
            "sign in with your company account."
        )
    existing = EmployeeProfile.objects.filter(organization=organization, email=email).first()
    if (
        existing is not None
        and existing.user_id == user.pk
        and existing.status == EmployeeStatus.ACTIVE
    ):
        return existing
    if existing is not None and existing.status == EmployeeStatus.LEFT:
        raise PermissionDenied("Your access to this company has ended. Ask your HR team.")
    if not InviteLink.objects.filter(pk=link.pk, uses__lt=F("max_uses")).update(uses=F("uses") + 1):
        raise StateConflict("This link has been used as many times as it allows. Ask your HR team.")
    full_name = (user.get_full_name() if hasattr(user, "get_full_name") else "") or email.split(
        "@"
    )[0]
    employee = existing or EmployeeProfile(
        organization=organization, email=email, full_name=full_name
    )
    employee.user = user
    employee.status = EmployeeStatus.ACTIVE
    employee.save()
    Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"role": link.role}
    )
    audit_record(organization=organization, actor=user, action="invite_link.joined", target=link)
    return employee
