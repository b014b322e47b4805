from __future__ import annotations

import dramatiq

from apps.organizations.models import Organization
from apps.people.standing import people_restand


@dramatiq.actor(actor_name="people_restand", queue_name="cpu", max_retries=3)
def people_restand_task() -> None:
    """Every company's people worked out again: what no row change said (a new standard
    consent text, a change made outside the portal's code) is put right within the hour."""
    for organization in Organization.objects.all().iterator():
        people_restand(organization=organization)
