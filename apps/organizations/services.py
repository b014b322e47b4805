from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.audit.services import audit_record
from apps.core import hooks
from apps.core.errors import NotFound, PermissionDenied, StateConflict, ValidationFailed
from apps.organizations.models import (
    MANAGER_ROLES,
    EmployeeProfile,
    EmployeeStatus,
    Invitation,
    Membership,
    Organization,
    Role,
)
from apps.organizations.selectors import require_role

INVITATION_DAYS = 14


def _clean_domains(domains: list[str]) -> list[str]:
    cleaned = sorted({d.strip().lower().lstrip("@") for d in domains if d.strip()})
    for domain in cleaned:
        if "." not in domain or " " in domain:
            raise ValidationFailed(
                f"{domain!r} is not an email domain (expected something like example.com)."
            )
    return cleaned


@transaction.atomic
def organization_create(
    *, name: str, email_domains: list[str], retention_days: int = 30
) -> Organization:
    name = name.strip()
    if not name:
        raise ValidationFailed("A company needs a name.")
    slug = slugify(name)[:80] or "company"
    if Organization.objects.filter(slug=slug).exists():
        raise StateConflict(f"A company named {name!r} already exists.")
    return Organization.objects.create(
        name=name,
        slug=slug,
        email_domains=_clean_domains(email_domains),
        retention_days=retention_days,
    )


@transaction.atomic
def membership_grant(
    *,
    organization: Organization,
    user: User,
    role: str,
    granted_by: User | None,
) -> Membership:
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    if granted_by is not None:
        require_role(organization=organization, user=granted_by, roles=MANAGER_ROLES)
    membership, _ = Membership.objects.update_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    audit_record(
        organization=organization,
        actor=granted_by,
        action="membership.granted",
        target=membership,
        data={"user": user.get_username(), "role": role},
    )
    return membership


def _check_domain(organization: Organization, email: str) -> str:
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationFailed(f"{email!r} is not an email address.")
    domain = email.rsplit("@", 1)[1]
    if organization.email_domains and domain not in organization.email_domains:
        raise ValidationFailed(
            f"{email} is outside {organization.name}'s email domains ({', '.join(organization.email_domains)})."
        )
    return email


@transaction.atomic
def invitation_create(
    *,
    organization: Organization,
    invited_by: User,
    email: str,
    full_name: str,
    title: str = "",
    department: str = "",
    phone: str = "",
    role: str = Role.EMPLOYEE,
) -> tuple[Invitation, str]:
    """Invite a person; returns the invitation and the one-time token (only its hash is stored)."""
    require_role(organization=organization, user=invited_by, roles=MANAGER_ROLES)
    email = _check_domain(organization, email)
    if not full_name.strip():
        raise ValidationFailed("An invitation needs the person's name.")
    employee, created = EmployeeProfile.objects.get_or_create(
        organization=organization,
        email=email,
        defaults={
            "full_name": full_name.strip(),
            "title": title,
            "department": department,
            "phone": phone,
        },
    )
    if not created and employee.status == EmployeeStatus.ACTIVE:
        raise StateConflict(f"{email} has already joined.")
    Invitation.objects.filter(
        employee=employee, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        role=role,
        employee=employee,
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    audit_record(
        organization=organization,
        actor=invited_by,
        action="invitation.created",
        target=invitation,
        data={"email": email},
    )
    return invitation, token


@transaction.atomic
def invitation_open(*, token: str, lock: bool = False) -> Invitation:
    """The invitation a link carries, while it can still be accepted."""
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    found = Invitation.objects.select_related("organization", "employee")
    if lock:
        found = found.select_for_update()
    invitation = found.filter(token_hash=token_hash).first()
    if invitation is None or invitation.revoked_at is not None:
        raise NotFound("This invitation link is not valid. Ask your HR team for a new one.")
    if invitation.accepted_at is not None:
        raise StateConflict("This invitation has already been used. Sign in instead.")
    if invitation.expires_at < timezone.now():
        raise StateConflict("This invitation has expired. Ask your HR team to send a new one.")
    return invitation


def invitation_accept(*, token: str, user: User) -> EmployeeProfile:
    invitation = invitation_open(token=token, lock=True)
    user_email = (getattr(user, "email", "") or "").lower()
    if not user_email:
        # an account without an address (a platform administrator made on the command
        # line): the link came to this mailbox, so the address is theirs
        user.email = invitation.email
        user.save(update_fields=["email"])
    elif user_email != invitation.email:
        raise PermissionDenied(
            f"This invitation was sent to {invitation.email}, and you are signed in as "
            f"{user_email}. Sign out, then open the link again."
        )
    organization = invitation.organization
    Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"role": invitation.role}
    )
    employee = invitation.employee
    employee.user = user
    employee.status = EmployeeStatus.ACTIVE
    employee.save(update_fields=["user", "status", "updated_at"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    audit_record(
        organization=organization, actor=user, action="invitation.accepted", target=invitation
    )
    return employee


def user_get_or_create(*, email: str, full_name: str = "") -> User:
    """A login for a person, keyed by email (readable usernames)."""
    user_model = get_user_model()
    email = email.strip().lower()
    user, created = user_model.objects.get_or_create(
        username=email, defaults={"email": email, "first_name": full_name.split(" ")[0][:150]}
    )
    if created:
        # People sign in through their company: they have no password, and an empty one
        # would count as usable (a reset mail could then give them one).
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def employee_leave(
    *, organization: Organization, actor: User, employee: EmployeeProfile
) -> EmployeeProfile:
    """HR records that a person left: their jobs stop, their directory photo is removed at
    the next sync, and the retention purge deletes everything of theirs on schedule."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if employee.organization_id != organization.pk:
        raise NotFound("Not found.")
    if employee.status == EmployeeStatus.LEFT:
        return employee
    employee.status = EmployeeStatus.LEFT
    employee.left_at = timezone.now()
    employee.save(update_fields=["status", "left_at", "updated_at"])
    hooks.fire("person.left", organization=organization, employee=employee, actor=actor)
    audit_record(organization=organization, actor=actor, action="employee.left", target=employee)
    return employee


def brand_update(
    *,
    organization: Organization,
    actor: User,
    changes: dict[str, str],
    logo: bytes | None = None,
    font_regular: bytes | None = None,
    font_bold: bytes | None = None,
) -> Organization:
    """Change the company's colours, card size, logo or card fonts. Everything is checked
    before anything is saved; a font is kept in private storage and replaces the old one."""
    import base64

    from pydantic import ValidationError

    from apps.core.storage import private_delete_all, private_save
    from apps.organizations.brand import LOGO_MAX_BYTES, Brand, brand_logo, brand_of, font_problem

    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    current = brand_of(organization.brand).model_dump()
    wanted = {
        k: v
        for k, v in changes.items()
        if k in {"primary", "background", "text", "muted", "card_size", "font_name", "ai_mark"}
    }
    if logo is not None:
        mime = "image/png" if logo.startswith(b"\x89PNG") else "image/jpeg"
        uri = f"data:{mime};base64,{base64.b64encode(logo).decode('ascii')}"
        if not brand_logo(uri):
            raise ValidationFailed(
                f"The logo must be a PNG or JPEG image of at most {LOGO_MAX_BYTES // 1000} KB."
            )
        wanted["logo"] = uri
    if changes.get("remove_logo"):
        wanted["logo"] = ""
    for data in (font_regular, font_bold):
        if data is not None and (problem := font_problem(data)):
            raise ValidationFailed(problem)
    try:
        brand = Brand.model_validate({**current, **wanted})
    except ValidationError as exc:
        raise ValidationFailed(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from exc
    old_fonts = []
    folder = f"org-{organization.pk}/brand"
    if font_regular is not None:
        old_fonts.append(brand.font_regular)
        brand.font_regular = private_save(folder, font_regular, suffix=".font")
    if font_bold is not None:
        old_fonts.append(brand.font_bold)
        brand.font_bold = private_save(folder, font_bold, suffix=".font")
    if changes.get("remove_fonts"):
        old_fonts += [brand.font_regular, brand.font_bold]
        brand.font_regular = brand.font_bold = brand.font_name = ""
    with transaction.atomic():
        organization.brand = brand.model_dump()
        organization.save(update_fields=["brand", "updated_at"])
        audit_record(
            organization=organization,
            actor=actor,
            action="brand.updated",
            target=organization,
            data={
                "changed": sorted(set(wanted) | ({"fonts"} if font_regular or font_bold else set()))
            },
        )
        transaction.on_commit(lambda: private_delete_all([n for n in old_fonts if n]))
    return organization


@transaction.atomic
def organization_retention_update(
    *,
    organization: Organization,
    actor: User,
    retention_days: int,
    leaver_retention_days: int,
    invitation_reminder_days: int,
) -> Organization:
    """HR sets the company's schedule. Biometric data is kept at most three years (the
    longest the Illinois BIPA allows after the last interaction)."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if not 1 <= retention_days <= 1095:
        raise ValidationFailed("Keep selfies between 1 day and 3 years (1095 days) after approval.")
    if not 0 <= leaver_retention_days <= 90:
        raise ValidationFailed(
            "Delete a leaver's data within 90 days (0: at the next daily purge)."
        )
    if not 0 <= invitation_reminder_days <= 30:
        raise ValidationFailed("Remind after at most 30 days (0: never).")
    before = {
        "retention_days": organization.retention_days,
        "leaver_retention_days": organization.leaver_retention_days,
        "invitation_reminder_days": organization.invitation_reminder_days,
    }
    organization.retention_days = retention_days
    organization.leaver_retention_days = leaver_retention_days
    organization.invitation_reminder_days = invitation_reminder_days
    organization.save(
        update_fields=[
            "retention_days",
            "leaver_retention_days",
            "invitation_reminder_days",
            "updated_at",
        ]
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="retention.changed",
        target=organization,
        data={"before": before, "after": {k: getattr(organization, k) for k in before}},
    )
    return organization
