from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Declare this app's actors in every process: services enqueue them by name.
        from apps.core.crypto import register_rotation
        from apps.webhooks import tasks  # noqa: F401
        from apps.webhooks.services import webhook_secrets_rotate_encryption

        register_rotation("webhooks", webhook_secrets_rotate_encryption)
