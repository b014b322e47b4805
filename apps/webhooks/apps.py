from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Declare this app's actors in every process: services enqueue them by name.
        from apps.webhooks import tasks  # noqa: F401
