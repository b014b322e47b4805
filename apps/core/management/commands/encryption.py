from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.core.crypto import rotate


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
        from apps.generation.models import Headshot
        from apps.organizations.models import IdentityProvider
        from apps.photos.models import IdentityProfile, Photo
        from apps.publishing.models import DirectoryConnection, Publication
        from apps.webhooks.models import WebhookEndpoint

        files = rows = secrets = 0
        for photo in Photo.objects.only("pk", "normalised", "embedding").iterator():
            files += _rotate_file(photo.normalised.name)
            if photo.embedding:
                Photo.objects.filter(pk=photo.pk).update(embedding=rotate(photo.embedding))
                rows += 1
        for profile in IdentityProfile.objects.only("pk", "embedding").iterator():
            IdentityProfile.objects.filter(pk=profile.pk).update(
                embedding=rotate(profile.embedding)
            )
            rows += 1
        for headshot in Headshot.objects.exclude(image="").only("pk", "image").iterator():
            files += _rotate_file(headshot.image.name)
        for publication in Publication.objects.exclude(artifact="").only("pk", "artifact"):
            files += _rotate_file(publication.artifact.name)
        for model, field in (
            (DirectoryConnection, "bind_password_sealed"),
            (IdentityProvider, "client_secret_sealed"),
            (WebhookEndpoint, "secret_sealed"),
        ):
            for pk, sealed in model.objects.exclude(**{field: ""}).values_list("pk", field):
                model.objects.filter(pk=pk).update(
                    **{field: rotate(sealed.encode("ascii")).decode("ascii")}
                )
                secrets += 1
        self.stdout.write(
            f"re-encrypted {files} files, {rows} embeddings and {secrets} stored secrets"
        )


def _rotate_file(name: str) -> int:
    from apps.core.storage import private_read_raw, private_replace

    raw = private_read_raw(name)
    rotated = rotate(raw)
    if rotated == raw:
        return 0
    private_replace(name, rotated)
    return 1
