"""API tokens from the command line, for operators and scripts: the same tokens HR makes
on its API tokens page, acting as an HR member of the company."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.organizations.models import ApiToken, Organization
from apps.organizations.tokens import SCOPES, api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Make, list and revoke a company's API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="make a token (printed once)")
        create.add_argument("--company", required=True, help="the company's address name (slug)")
        create.add_argument("--as", dest="actor", required=True, help="an HR member's e-mail")
        create.add_argument("--name", required=True, help="which integration uses it")
        create.add_argument(
            "--scope", action="append", required=True, choices=sorted(SCOPES), help="repeatable"
        )
        create.add_argument("--days", type=int, default=90, help="how long it works (0: always)")
        listing = actions.add_parser("list", help="the company's tokens")
        listing.add_argument("--company", required=True)
        revoke = actions.add_parser("revoke", help="stop a token now")
        revoke.add_argument("--company", required=True)
        revoke.add_argument("--as", dest="actor", required=True, help="an HR member's e-mail")
        revoke.add_argument("--prefix", required=True, help="the token's first characters")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["company"]).first()
        if organization is None:
            raise CommandError(f"No company has the address name {options['company']!r}.")
        try:
            getattr(self, f"do_{options['action']}")(organization, options)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

    def _actor(self, organization: Organization, email: str) -> Any:
        actor = get_user_model().objects.filter(email__iexact=email).first()
        if actor is None:
            raise CommandError(f"Nobody signs in as {email}.")
        return actor

    def do_create(self, organization: Organization, options: dict[str, Any]) -> None:
        days = options["days"]
        token, raw = api_token_create(
            organization=organization,
            actor=self._actor(organization, options["actor"]),
            name=options["name"],
            scopes=options["scope"],
            expires_at=timezone.now() + timedelta(days=days) if days > 0 else None,
        )
        self.stderr.write(f"Made {token.name}; it is printed once, on standard output:")
        self.stdout.write(raw)

    def do_list(self, organization: Organization, options: dict[str, Any]) -> None:
        for token in ApiToken.objects.filter(organization=organization).order_by("-created_at"):
            state = (
                f"revoked {token.revoked_at:%Y-%m-%d}"
                if token.revoked_at
                else f"expires {token.expires_at:%Y-%m-%d}"
                if token.expires_at
                else "never expires"
            )
            used = (
                f"last used {token.last_used_at:%Y-%m-%d}" if token.last_used_at else "never used"
            )
            self.stdout.write(
                f"{token.prefix}…  {token.name}  [{', '.join(token.scopes)}]  {state}, {used}"
            )

    def do_revoke(self, organization: Organization, options: dict[str, Any]) -> None:
        found = ApiToken.objects.filter(
            organization=organization,
            prefix__startswith=options["prefix"][:12],
            revoked_at__isnull=True,
        )
        if found.count() != 1:
            raise CommandError(
                f"{found.count()} working tokens start with {options['prefix']!r}: give more "
                "of the token's first characters."
            )
        token = found.get()
        api_token_revoke(
            organization=organization,
            actor=self._actor(organization, options["actor"]),
            token=token,
        )
        self.stdout.write(f"Revoked {token.name}.")
