"""Private file storage: every selfie, headshot and artifact goes through here."""

from __future__ import annotations

import hashlib
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def private_save(folder: str, data: bytes, *, suffix: str, encrypted: bool = False) -> str:
    """Store ``data`` under an unguessable name in ``folder``; return the storage name.
    ``encrypted`` for biometric data (selfies): encrypted at rest (apps.core.crypto)."""
    if encrypted:
        from apps.core.crypto import encrypt

        data = encrypt(data)
    return default_storage.save(f"{folder}/{uuid.uuid4().hex}{suffix}", ContentFile(data))


def private_read(name: str | None) -> bytes:
    """The file's content, decrypted when it was stored encrypted."""
    from apps.core.crypto import decrypt

    return decrypt(private_read_raw(name))


def private_read_raw(name: str | None) -> bytes:
    if not name:
        raise FileNotFoundError("no file is stored for this")
    with default_storage.open(name, "rb") as handle:
        return bytes(handle.read())


def private_replace(name: str, data: bytes) -> None:
    """Write new content under the same name (key rotation)."""
    default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:
        raise RuntimeError(f"{name} could not be rewritten in place (stored as {saved})")


def private_rotate(name: str | None) -> int:
    """Re-encrypt a stored file with the first key (encrypting one stored in clear);
    1 when it was rewritten."""
    from apps.core.crypto import rotate

    raw = private_read_raw(name)
    rotated = rotate(raw)
    if rotated == raw or not name:
        return 0
    private_replace(name, rotated)
    return 1


def private_delete_all(names: list[str | None] | list[str]) -> None:
    for name in names:
        private_delete(name)


def private_delete(name: str | None) -> None:
    """The file gone (in object storage: every version of it); nothing when it was not
    there."""
    if name:
        default_storage.delete(name)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
