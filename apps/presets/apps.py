from django.apps import AppConfig


class PresetsConfig(AppConfig):
    name = "apps.presets"
    label = "presets"
    default_auto_field = "django.db.models.BigAutoField"
