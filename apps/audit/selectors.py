from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.audit.models import AuditEvent
from apps.core.errors import ValidationFailed
from apps.organizations.models import Organization


def audit_event_list(
    *,
    organization: Organization,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The company's events; ``actor`` matches part of the actor's name or address,
    ``since`` is inclusive and ``until`` exclusive (audit_period reads them)."""
    events = AuditEvent.objects.filter(organization=organization)
    if action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_label__icontains=actor[:100])
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    return events


def audit_actions(*, organization: Organization) -> list[str]:
    return list(
        AuditEvent.objects.filter(organization=organization)
        .values_list("action", flat=True)
        .distinct()
        .order_by("action")
    )


def audit_period(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """The page's and the API's filters as one period: each bound is an ISO 8601
    date-time, or a date meaning that whole day (``until`` a date includes the day)."""
    return _moment(since, "since", end=False), _moment(until, "until", end=True)


def _moment(value: str | None, name: str, *, end: bool) -> datetime | None:
    if not value:
        return None
    try:
        day = parse_date(value)  # a date alone (a date-time does not read as one)
        moment = None if day is not None else parse_datetime(value)
    except ValueError:  # well formed, but no such day
        day = moment = None
    if day is not None:
        start = timezone.make_aware(datetime.combine(day, time.min))
        return start + timedelta(days=1) if end else start
    if moment is None:
        raise ValidationFailed(
            f"The {name} filter must be a date (2026-11-01) or a date and time "
            "(2026-11-01T09:00:00Z)."
        )
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
