"""Mail to the people of a company: who gets which, and the kinds each person may turn
off on their mail settings page. The mails themselves are sent by ``apps.core.mail``."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse

from apps.core.mail import mail_send, portal_url
from apps.organizations.brand import brand_of
from apps.organizations.models import IdentityProvider, Membership, Organization

logger = logging.getLogger(__name__)

# The mail a person may turn off, and how the settings page names each.
OPTIONAL = {
    "ready": "When your headshots are ready to pick",
    "decision": "When HR approves your headshot or sends it back",
    "published": "When your headshot is published (business card, directory)",
    "approvals": "Headshots waiting for your approval (at most one mail an hour)",
}


def company_mail(
    *,
    organization: Organization,
    to: list[str],
    subject: str,
    template: str,
    context: dict[str, Any],
    optional: bool = False,
) -> None:
    """One mail in the company's name and colour."""
    mail_send(
        to=to,
        subject=subject,
        template=template,
        context=context,
        company=organization.name,
        colour=brand_of(organization.brand).primary,
        settings_link=portal_url(reverse("mail-settings", args=[organization.slug]))
        if optional
        else "",
    )


def member_mail(
    *,
    organization: Organization,
    user: User | None,
    kind: str,
    subject: str,
    template: str,
    context: dict[str, Any],
) -> bool:
    """An optional mail to a member, unless they turned this kind off or have no address.
    Returns whether it was sent."""
    assert kind in OPTIONAL, kind
    if user is None or not user.email:
        return False
    membership = Membership.objects.filter(organization=organization, user=user).first()
    if membership is None or kind in (membership.mail_off or []):
        return False
    company_mail(
        organization=organization,
        to=[user.email],
        subject=subject,
        template=template,
        context=context,
        optional=True,
    )
    return True


def member_mail_later(
    *,
    organization: Organization,
    user: User | None,
    kind: str,
    subject: str,
    template: str,
    context: dict[str, Any],
) -> None:
    """``member_mail`` once the current transaction commits; a mail server that does not
    answer is logged and never undoes or stops the work that sent the mail."""

    def send() -> None:
        try:
            member_mail(
                organization=organization,
                user=user,
                kind=kind,
                subject=subject,
                template=template,
                context=context,
            )
        except Exception:  # the mail server
            logger.exception("the %s mail could not be sent", kind)

    transaction.on_commit(send)


def single_sign_on(organization: Organization) -> bool:
    """Whether the company's people sign in through its identity provider."""
    return IdentityProvider.objects.filter(organization=organization, enabled=True).exists()
