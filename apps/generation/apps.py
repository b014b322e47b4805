from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "apps.generation"
    label = "generation"
    default_auto_field = "django.db.models.BigAutoField"
