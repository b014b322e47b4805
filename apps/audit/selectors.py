from __future__ import annotations

from django.db.models import QuerySet

from apps.audit.models import AuditEvent
from apps.organizations.models import Organization


def audit_event_list(
    *, organization: Organization, action: str | None = None
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(organization=organization)
    if action:
        events = events.filter(action=action)
    return events
