from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.core.crypto import rotate


class Command(BaseCommand):
    help = (
        "rotate: re-encrypt every selfie and identity embedding with the first key of "
        "HEADSHOTS_ENCRYPTION_KEYS (and encrypt any stored before encryption was on). "
        "Put the new key first, run this, then remove the old key."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["rotate"])

    def handle(self, *args: Any, **options: Any) -> None:
        from apps.core.storage import private_read_raw, private_replace
        from apps.photos.models import IdentityProfile, Photo

        files = rows = 0
        for photo in Photo.objects.only("pk", "normalised", "embedding").iterator():
            raw = private_read_raw(photo.normalised.name)
            rotated = rotate(raw)
            if rotated != raw:
                private_replace(photo.normalised.name, rotated)
                files += 1
            if photo.embedding:
                Photo.objects.filter(pk=photo.pk).update(embedding=rotate(photo.embedding))
                rows += 1
        for profile in IdentityProfile.objects.only("pk", "embedding").iterator():
            IdentityProfile.objects.filter(pk=profile.pk).update(
                embedding=rotate(profile.embedding)
            )
            rows += 1
        self.stdout.write(f"re-encrypted {files} selfie files and {rows} embeddings")
