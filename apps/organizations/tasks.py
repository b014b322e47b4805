from __future__ import annotations

import dramatiq


@dramatiq.actor(actor_name="invitation_reminders", queue_name="cpu", max_retries=3)
def invitation_reminders_task() -> None:
    from apps.organizations.invitations import invitation_reminders_send

    invitation_reminders_send()
