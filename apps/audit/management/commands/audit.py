from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.audit.models import AuditEvent
from apps.audit.services import audit_chain_verify
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
                for event in AuditEvent.objects.filter(organization=company).order_by("sequence"):
                    self.stdout.write(
                        json.dumps(
                            {
                                "company": company.slug,
                                "sequence": event.sequence,
                                "at": event.created_at.isoformat(timespec="microseconds"),
                                "actor": event.actor_label,
                                "action": event.action,
                                "target": f"{event.target_type}#{event.target_id}",
                                "data": event.data,
                                "previous_hash": event.previous_hash,
                                "hash": event.hash,
                            },
                            ensure_ascii=False,
                            sort_keys=True,
                        )
                    )
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
