from __future__ import annotations

import uuid

from django.db import models

from apps.core.models import TenantOwned

EVENTS = ("job.finished", "headshot.approved", "headshot.published")


class WebhookEndpoint(TenantOwned):
    """Where a company's integration wants events, signed with a secret of its own."""

    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    # Generated here and shown once to the company's administrator: the receiver checks
    # the HMAC-SHA256 signature of every delivery with it. Stored encrypted
    # (apps.organizations.tenant_secrets.seal).
    secret_sealed = models.TextField()
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookDelivery(TenantOwned):
    """One event to one endpoint, kept as the delivery log."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(default=uuid.uuid4, unique=True)  # receivers deduplicate by it
    event = models.CharField(max_length=60)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id}"
