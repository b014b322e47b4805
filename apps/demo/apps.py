from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py demo`: the whole journey on the embedded defaults, for a fresh machine.
    It drives every app through its services, so it sits above all of them."""

    name = "apps.demo"
    label = "demo"
