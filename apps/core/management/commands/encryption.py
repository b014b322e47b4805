from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.core.crypto import rotate_everything


class Command(BaseCommand):
    help = (
        "rotate: re-encrypt everything kept encrypted (selfies, identity embeddings, "
        "generated headshots, cards and exports, the companies' stored secrets) with the "
        "first key of HEADSHOTS_ENCRYPTION_KEYS, and encrypt what was stored before "
        "encryption covered it. Put the new key first, run this, then remove the old key."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["rotate"])

    def handle(self, *args: Any, **options: Any) -> None:
        counts = rotate_everything()
        self.stdout.write(
            f"re-encrypted {counts.get('files', 0)} files, {counts.get('embeddings', 0)} "
            f"embeddings and {counts.get('secrets', 0)} stored secrets"
        )
