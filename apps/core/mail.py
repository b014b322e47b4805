"""Mail people receive: the same words as plain text and as HTML, in the company's colour,
every link absolute on the portal's public address (HEADSHOTS_PUBLIC_URL), sent through
the configured backend (SMTP in production: DJANGO_EMAIL_*)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from apps.core.text import HEX_COLOUR

logger = logging.getLogger(__name__)

DEFAULT_COLOUR = "#1f2a44"


def portal_url(path: str) -> str:
    """An absolute link to a page of the portal, for mail and printed output."""
    return settings.HEADSHOTS_PUBLIC_URL + path


def mail_send(
    *,
    to: list[str],
    subject: str,
    template: str,
    context: dict[str, Any],
    company: str,
    colour: str = DEFAULT_COLOUR,
    settings_link: str = "",
) -> None:
    """Render ``mail/<template>.txt`` and ``.html`` and send them as one message.

    ``company`` and ``colour`` brand the mail; ``settings_link``, when given, is where the
    reader turns this kind of mail off (shown at the foot of both versions)."""
    values = {
        **context,
        "company": company,
        "colour": colour if HEX_COLOUR.match(colour or "") else DEFAULT_COLOUR,
        "subject": subject,
        "portal": settings.HEADSHOTS_PUBLIC_URL,
        "settings_link": settings_link,
    }
    text = render_to_string(f"mail/{template}.txt", values).strip() + "\n"
    if settings_link:  # the HTML's foot (mail/base.html) says the same
        text += (
            f"\nYou can turn this kind of mail off on your mail settings page:\n{settings_link}\n"
        )
    html = render_to_string(f"mail/{template}.html", values)
    message = EmailMultiAlternatives(subject, text, None, to)
    message.attach_alternative(html, "text/html")
    message.send()
    logger.info("mail %r sent to %d address(es)", template, len(to))
