"""Signed webhooks: events to the companies' integrations, retried with backoff, logged.

Every delivery is a JSON POST with the headers ``X-Headshots-Event``,
``X-Headshots-Delivery`` (the event id, for deduplication) and
``X-Headshots-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.core.queue import enqueue
from apps.organizations.models import MANAGER_ROLES, Organization
from apps.organizations.selectors import require_role
from apps.organizations.tenant_secrets import seal, unseal
from apps.webhooks import transport
from apps.webhooks.models import EVENTS, DeliveryStatus, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_S = 300
MAX_ATTEMPTS = 8  # deliveries of one event, with backoff (tasks.webhook_deliver_task)


class DeliveryFailed(Exception):
    """The receiver did not take the event; the task tries again later."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, now: float | None = None) -> bool:
    """What a receiver does: the signature matches and is recent (no replays)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > SIGNATURE_TOLERANCE_S:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


def _check_url(url: str) -> None:
    try:
        transport.resolve(url, allow_private=settings.HEADSHOTS_WEBHOOK_ALLOW_PRIVATE)
    except transport.AddressRefused as exc:
        raise ValidationFailed(str(exc)) from exc


def webhook_endpoint_create(
    *, organization: Organization, actor: User, url: str, events: list[str]
) -> tuple[WebhookEndpoint, str]:
    """(endpoint, secret): the secret is shown to the administrator this once."""
    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise ValidationFailed(f"Choose events among {', '.join(EVENTS)}.")
    _check_url(url)
    secret = secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint.objects.create(
        organization=organization, url=url, events=sorted(set(events)), secret_sealed=seal(secret)
    )
    return endpoint, secret


def webhook_emit(*, organization: Organization, event: str, data: dict[str, Any]) -> int:
    """Queue the event for every active endpoint of the company that wants it."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    count = 0
    for endpoint in WebhookEndpoint.objects.filter(organization=organization, active=True):
        if event not in endpoint.events:
            continue
        delivery = WebhookDelivery.objects.create(
            organization=organization,
            endpoint=endpoint,
            event=event,
            payload={"event": event, "company": organization.slug, "data": data},
        )
        enqueue("webhook_deliver", delivery.pk)
        count += 1
    return count


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """POST one delivery; a refusal or no answer raises DeliveryFailed (retried)."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == DeliveryStatus.SUCCEEDED:
        return delivery
    payload = {**delivery.payload, "id": str(delivery.event_id)}
    body = json.dumps(payload, sort_keys=True).encode()
    code, error = transport.post(
        delivery.endpoint.url,
        body,
        {
            "Content-Type": "application/json",
            "User-Agent": "headshots-portal-webhooks",
            "X-Headshots-Event": delivery.event,
            "X-Headshots-Delivery": str(delivery.event_id),
            "X-Headshots-Signature": sign(
                unseal(delivery.endpoint.secret_sealed), body, int(time.time())
            ),
        },
        allow_private=settings.HEADSHOTS_WEBHOOK_ALLOW_PRIVATE,
    )
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.attempts += 1
        delivery.last_status_code = code
        if code is not None and 200 <= code < 300:
            delivery.status, delivery.last_error = DeliveryStatus.SUCCEEDED, ""
            delivery.delivered_at = timezone.now()
        else:
            delivery.last_error = error or f"the receiver answered {code}"
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.FAILED
        delivery.save()
    if delivery.status == DeliveryStatus.PENDING:
        raise DeliveryFailed(delivery.last_error)
    return delivery


def webhook_secrets_rotate_encryption() -> dict[str, int]:
    """The webhooks' signing secrets, re-encrypted."""
    from apps.core.crypto import rotate_text

    secrets = 0
    for pk, sealed in WebhookEndpoint.objects.values_list("pk", "secret_sealed"):
        WebhookEndpoint.objects.filter(pk=pk).update(secret_sealed=rotate_text(sealed))
        secrets += 1
    return {"secrets": secrets}
