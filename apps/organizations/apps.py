from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "apps.organizations"
    label = "organizations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from datetime import timedelta

        from apps.core import scheduler

        def reminders() -> None:
            from apps.core.queue import enqueue
            from apps.organizations.tasks import invitation_reminders_task

            enqueue(invitation_reminders_task)

        scheduler.register("invitation_reminders", timedelta(hours=6), reminders)
