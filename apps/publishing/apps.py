from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "apps.publishing"
    label = "publishing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from datetime import timedelta

        from apps.core import scheduler

        # Declare this app's actors in every process: services enqueue them by name.
        from apps.publishing import tasks  # noqa: F401

        def sync_directories() -> None:
            from apps.core.queue import enqueue
            from apps.publishing.models import CloudDirectory, DirectoryConnection

            companies = set(
                DirectoryConnection.objects.filter(enabled=True).values_list(
                    "organization_id", flat=True
                )
            ) | set(
                CloudDirectory.objects.filter(enabled=True).values_list(
                    "organization_id", flat=True
                )
            )
            for organization_id in sorted(companies):
                enqueue("directory_sync", organization_id)

        scheduler.register("directory_sync", timedelta(hours=1), sync_directories)

        from apps.core.crypto import register_rotation
        from apps.publishing.services import publishing_rotate_encryption

        register_rotation("publishing", publishing_rotate_encryption)

        from apps.core import hooks
        from apps.publishing.bulk import publish_on_approval

        hooks.register("headshot.approved", "publishing", publish_on_approval)
