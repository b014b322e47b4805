from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.audit.services import audit_chain_verify, audit_export_lines
from apps.organizations.models import Organization


class Command(BaseCommand):
    help = (
        "verify: recompute every company's audit chain (exit 1 on the first broken link); "
        "export: one JSON object per event, oldest first, with its hashes."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["verify", "export"])
        parser.add_argument("--company", help="a company's slug (default: every company)")

    def handle(self, *args: Any, **options: Any) -> None:
        companies = Organization.objects.order_by("slug")
        if options["company"]:
            companies = companies.filter(slug=options["company"])
            if not companies.exists():
                raise CommandError(f"No company with the slug {options['company']!r}.")
        if options["action"] == "export":
            for company in companies:
                for line in audit_export_lines(organization=company):
                    self.stdout.write(line)
            return
        broken = []
        for company in companies:
            report = audit_chain_verify(organization=company)
            if report.ok:
                self.stdout.write(f"{company.slug}: {report.events} events, chain intact")
            else:
                broken.append(company.slug)
                self.stdout.write(
                    f"{company.slug}: BROKEN at event {report.broken_at}: {report.reason}"
                )
        if broken:
            raise CommandError(f"The audit chain is broken for {', '.join(broken)}.")
