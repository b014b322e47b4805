"""A trial in minutes: the demo's company with its HR administrator and one employee
(made if missing, with the shipped presets), and a one-time sign-in link for each."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.demo.management.commands.demo import Command as Demo
from apps.organizations.signin_links import MAX_AGE_S, signin_link_make


class Command(BaseCommand):
    help = (
        "Make the trial company if it is missing and print one-time sign-in links for its "
        "HR administrator and its employee (run it again for new links)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        demo = Demo()
        demo.context = {}
        with transaction.atomic():
            demo.step_company()
            demo.step_presets()
            demo.step_invitation()
        org, hr, person = demo.context["org"], demo.context["hr"], demo.context["user"]
        minutes = MAX_AGE_S // 60
        lines = [
            "",
            f"The portal: {settings.HEADSHOTS_PUBLIC_URL}/",
            "",
            f"Sign in to the trial company, {org.name}. Each link works once, for {minutes} "
            "minutes; `python manage.py trial` prints new ones.",
            "",
            f"  HR administrator ({hr.email}):",
            f"    {signin_link_make(hr)}",
            f"  Employee ({person.email}):",
            f"    {signin_link_make(person)}",
            "",
            f"HR invites people at @{org.email_domains[0]} addresses; their invitation link "
            "signs them in. Mail is "
            + (
                "printed below, in this window."
                if settings.EMAIL_BACKEND.endswith("console.EmailBackend")
                else f"sent through {settings.EMAIL_HOST}:{settings.EMAIL_PORT}."
            ),
            "",
        ]
        self.stdout.write("\n".join(lines))
