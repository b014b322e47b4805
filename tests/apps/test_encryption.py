"""Selfies and embeddings are encrypted at rest, and keys can be rotated."""

from __future__ import annotations

import io

import numpy as np
import pytest
from cryptography.fernet import Fernet
from django.core.files.storage import default_storage
from django.core.management import call_command

from apps.core.crypto import EncryptionError, is_encrypted
from apps.core.storage import private_read
from apps.photos.models import IdentityProfile, Photo
from apps.photos.services import embedding_from_bytes


def raw(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def test_selfies_and_embeddings_are_unreadable_at_rest(finished):
    c, _ = finished
    photo = Photo.objects.filter(employee=c.employee, embedding__isnull=False).first()
    stored = raw(photo.normalised.name)
    assert is_encrypted(stored) and b"\xff\xd8" not in stored[:16]  # not a JPEG on disk
    assert private_read(photo.normalised.name)[:2] == b"\xff\xd8"  # the service reads it back
    assert is_encrypted(bytes(photo.embedding))
    vector = embedding_from_bytes(photo.embedding)
    assert vector.shape == (128,) and abs(np.linalg.norm(vector) - 1) < 1e-3
    profile = IdentityProfile.objects.get(employee=c.employee)
    assert is_encrypted(bytes(profile.embedding))


def test_keys_rotate_without_losing_anything(finished, settings):
    c, _ = finished
    old_key = settings.HEADSHOTS_ENCRYPTION_KEYS[0]
    photo = Photo.objects.filter(employee=c.employee, embedding__isnull=False).first()
    before_image = private_read(photo.normalised.name)
    before_vector = embedding_from_bytes(photo.embedding)
    headshot = c.employee.headshots.first()
    before_headshot = private_read(headshot.image.name)
    from apps.organizations.tenant_secrets import seal, unseal
    from apps.webhooks.models import WebhookEndpoint

    hook = WebhookEndpoint.objects.create(
        organization=c.org, url="https://hooks.example/x", events=[], secret_sealed=seal("s3")
    )
    new_key = Fernet.generate_key().decode()
    settings.HEADSHOTS_ENCRYPTION_KEYS = [new_key, old_key]
    out = io.StringIO()
    call_command("encryption", "rotate", stdout=out)
    assert "re-encrypted" in out.getvalue()
    settings.HEADSHOTS_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    photo.refresh_from_db()
    assert private_read(photo.normalised.name) == before_image
    assert np.array_equal(embedding_from_bytes(photo.embedding), before_vector)
    assert private_read(headshot.image.name) == before_headshot  # every app's data rotated
    hook.refresh_from_db()
    assert unseal(hook.secret_sealed) == "s3"
    settings.HEADSHOTS_ENCRYPTION_KEYS = [old_key]  # a key that no longer opens anything
    with pytest.raises(EncryptionError, match="None of the configured encryption keys"):
        private_read(photo.normalised.name)


def test_the_local_key_is_made_once_when_many_ask_at_the_same_time(settings, tmp_path):
    """The first uploads to several web processes on a fresh machine race to make the
    key: every one of them gets the same complete key."""
    import threading

    from apps.core import crypto

    settings.VAR_DIR = tmp_path
    settings.HEADSHOTS_ENCRYPTION_KEYS = []
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(16)

    def ask() -> None:
        start.wait()
        try:
            results.append(crypto._local_key())
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(results)) == 1 and len(results[0]) == 44
    key_file = tmp_path / "secrets" / "encryption.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in key_file.parent.iterdir()] == ["encryption.key"]  # no drafts left
