"""Private file storage: every selfie, headshot and artifact goes through here."""

from __future__ import annotations

import hashlib
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def private_save(folder: str, data: bytes, *, suffix: str) -> str:
    """Store ``data`` under an unguessable name in ``folder``; return the storage name."""
    return default_storage.save(f"{folder}/{uuid.uuid4().hex}{suffix}", ContentFile(data))


def private_read(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def private_delete(name: str) -> None:
    if name and default_storage.exists(name):
        default_storage.delete(name)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
