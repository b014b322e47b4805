from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "apps.organizations"
    label = "organizations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from datetime import timedelta

        from apps.core import scheduler

        # Declare this app's actors in every process: services enqueue them by name.
        from apps.organizations import tasks  # noqa: F401

        def reminders() -> None:
            from apps.core.queue import enqueue

            enqueue("invitation_reminders")

        scheduler.register("invitation_reminders", timedelta(hours=6), reminders)

        from apps.core.crypto import register_rotation
        from apps.organizations.tenant_secrets import identity_providers_rotate_encryption

        register_rotation("organizations", identity_providers_rotate_encryption)
