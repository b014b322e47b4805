"""Inviting people: invitations by e-mail (resend, revoke, one reminder), shareable invite
links with a use cap and an expiry, and HR's roster import from CSV with a report per
row before anything is created."""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import NotFound, PermissionDenied, StateConflict, ValidationFailed
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
from apps.organizations.provisioning import PersonData
from apps.organizations.selectors import require_role
from apps.organizations.services import invitation_create

ROSTER_MAX_ROWS = 5000
ROSTER_MAX_BYTES = 2_000_000
ROSTER_COLUMNS = ("name", "email", "title", "department", "phone", "manager")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _link(name: str, token: str) -> str:
    return settings.HEADSHOTS_PUBLIC_URL + reverse(name, args=[token])


def invitation_send(*, invitation: Invitation, token: str, reminder: bool = False) -> None:
    organization = invitation.organization
    subject = (
        f"Reminder: your professional headshot at {organization.name}"
        if reminder
        else f"{organization.name} invites you to make your professional headshot"
    )
    body = (
        f"Hello {invitation.employee.full_name},\n\n"
        f"{organization.name} gives everyone an on-brand professional headshot, made from a "
        "few selfies and approved by HR.\n\n"
        f"Start here (the link works until {invitation.expires_at:%d %B %Y}):\n"
        f"{_link('invitation', token)}\n\n"
        "You will sign in with your company account. Nothing is processed before you have "
        "read how your photos are used and agreed.\n"
    )
    send_mail(subject, body, None, [invitation.email])
    field_name = "reminded_at" if reminder else "sent_at"
    Invitation.objects.filter(pk=invitation.pk).update(**{field_name: timezone.now()})


def invitation_invite(
    *,
    organization: Organization,
    actor: AbstractBaseUser,
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


def _still_open(
    organization: Organization, actor: AbstractBaseUser, invitation: Invitation
) -> None:
    """HR may act on this company's invitation, and the person has not joined yet."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if invitation.organization_id != organization.pk:
        raise NotFound("Not found.")
    if invitation.accepted_at is not None:
        raise StateConflict(f"{invitation.email} has already joined.")


@transaction.atomic
def invitation_resend(
    *, organization: Organization, actor: AbstractBaseUser, invitation: Invitation
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
def invitation_revoke(
    *, organization: Organization, actor: AbstractBaseUser, invitation: Invitation
) -> None:
    _still_open(organization, actor, invitation)
    Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    audit_record(
        organization=organization, actor=actor, action="invitation.revoked", target=invitation
    )


def invitation_reminders_send(*, now=None) -> int:  # type: ignore[no-untyped-def]
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
                lambda invitation=invitation, token=token: invitation_send(
                    invitation=invitation, token=token, reminder=True
                )
            )
        sent += 1
    return sent


# -- invite links ---------------------------------------------------------------------------------
@transaction.atomic
def invite_link_create(
    *, organization: Organization, actor: AbstractBaseUser, max_uses: int, days: int
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
def invite_link_join(*, token: str, user: AbstractBaseUser) -> EmployeeProfile:
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


# -- roster import --------------------------------------------------------------------------------
@dataclass
class RosterRow:
    line: int
    data: PersonData | None
    action: str  # invite, update, skip, error
    problems: list[str] = field(default_factory=list)


@dataclass
class RosterReport:
    rows: list[RosterRow]
    problems: list[str]  # about the file as a whole

    @property
    def valid(self) -> list[RosterRow]:
        return [r for r in self.rows if r.action in {"invite", "update"}]

    @property
    def errors(self) -> list[RosterRow]:
        return [r for r in self.rows if r.action == "error"]


def roster_check(*, organization: Organization, content: bytes) -> RosterReport:
    """Read and check a roster CSV without creating anything: a verdict per row."""
    if len(content) > ROSTER_MAX_BYTES:
        return RosterReport([], [f"The file is over {ROSTER_MAX_BYTES // 1_000_000} MB; split it."])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return RosterReport([], ['Save the roster as CSV in UTF-8 (Excel: "CSV UTF-8").'])
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("name", "email") if c not in headers]
    if missing:
        return RosterReport(
            [],
            [
                f"The first line must name the columns; missing: {', '.join(missing)} (expected {', '.join(ROSTER_COLUMNS)})."
            ],
        )
    existing = {e.email: e for e in EmployeeProfile.objects.filter(organization=organization)}
    seen: dict[str, int] = {}
    rows: list[RosterRow] = []
    for index, raw in enumerate(reader, start=2):
        if len(rows) >= ROSTER_MAX_ROWS:
            return RosterReport(
                rows, [f"A roster has at most {ROSTER_MAX_ROWS} rows; split the file."]
            )
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue
        data = PersonData(
            email=values.get("email", "").lower(),
            full_name=values.get("name", ""),
            title=values.get("title", ""),
            department=values.get("department", ""),
            phone=values.get("phone", ""),
            manager_email=values.get("manager", "").lower(),
        )
        problems = data.problems(organization)
        if data.email in seen:
            problems.append(f"the same email as line {seen[data.email]}")
        seen.setdefault(data.email, index)
        if problems:
            rows.append(RosterRow(index, data, "error", problems))
            continue
        current = existing.get(data.email)
        if current is None:
            rows.append(RosterRow(index, data, "invite"))
        elif current.status == EmployeeStatus.LEFT:
            rows.append(
                RosterRow(
                    index, data, "error", ["this person has left; HR re-admits them one by one"]
                )
            )
        else:
            same = all(
                getattr(current, f) == getattr(data, f)
                for f in ("full_name", "title", "department", "phone", "manager_email")
            )
            rows.append(RosterRow(index, data, "skip" if same else "update"))
    return RosterReport(rows, [] if rows else ["The file has no rows under its header."])


def roster_import(
    *, organization: Organization, actor: AbstractBaseUser, content: bytes
) -> dict[str, int]:
    """Invite the new people and update the known ones, from a roster checked again now;
    rows with problems are left out (the report said which)."""
    from apps.organizations.provisioning import employee_update

    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    report = roster_check(organization=organization, content=content)
    if report.problems:
        raise ValidationFailed(" ".join(report.problems))
    counts = {"invited": 0, "updated": 0, "skipped": 0, "errors": len(report.errors)}
    with transaction.atomic():
        for row in report.valid:
            assert row.data is not None
            if row.action == "invite":
                invitation_invite(organization=organization, actor=actor, data=row.data)
                counts["invited"] += 1
            else:
                employee = EmployeeProfile.objects.get(
                    organization=organization, email=row.data.email
                )
                employee_update(
                    organization=organization,
                    actor=actor,
                    employee=employee,
                    changes={
                        "full_name": row.data.full_name,
                        "title": row.data.title,
                        "department": row.data.department,
                        "phone": row.data.phone,
                        "manager_email": row.data.manager_email,
                    },
                    source="roster",
                )
                counts["updated"] += 1
        counts["skipped"] = sum(1 for r in report.rows if r.action == "skip")
        audit_record(
            organization=organization,
            actor=actor,
            action="roster.imported",
            target=organization,
            data=counts,
        )
    return counts
