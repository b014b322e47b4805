from __future__ import annotations

import dramatiq

from apps.organizations.invitations import invitation_reminders_send


@dramatiq.actor(actor_name="invitation_reminders", queue_name="cpu", max_retries=3)
def invitation_reminders_task() -> None:
    invitation_reminders_send()
