"""Encryption at rest for biometric data (selfies, identity embeddings), with key rotation.

Keys are Fernet keys (AES-128-CBC with HMAC-SHA256) from HEADSHOTS_ENCRYPTION_KEYS
(comma-separated, or its _FILE form): the first encrypts, all decrypt, so a new key is put
first, `manage.py encryption rotate` re-encrypts everything with it, and the old key is
then removed. Without the variable (the one-machine default) a key is made once in
VAR_DIR/secrets/encryption.key, readable by its owner only; production requires the
variable.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

# Every Fernet token starts with its version byte 0x80, base64-encoded: "gAAAAA".
TOKEN_PREFIX = b"gAAAAA"


class EncryptionError(Exception):
    pass


def _local_key() -> str:
    """The one-machine key, made by whichever process or thread asks first. The key is
    written to a temporary file and linked into place in one step, so nobody ever reads a
    half-written key and every racer ends up with the same one."""
    path = Path(settings.VAR_DIR) / "secrets" / "encryption.key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, draft = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mode 0600
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(Fernet.generate_key().decode())
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            os.unlink(draft)
    return path.read_text().strip()


def _cipher() -> MultiFernet:
    keys = list(settings.HEADSHOTS_ENCRYPTION_KEYS) or [_local_key()]
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise EncryptionError(
            "HEADSHOTS_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe "
            'base64 bytes); make one with `python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"`.'
        ) from exc


def is_encrypted(data: bytes) -> bool:
    return bytes(data[: len(TOKEN_PREFIX)]) == TOKEN_PREFIX


def encrypt(data: bytes) -> bytes:
    return _cipher().encrypt(bytes(data))


def decrypt(data: bytes) -> bytes:
    """The plaintext; data stored before encryption was turned on is returned as it is."""
    data = bytes(data)
    if not is_encrypted(data):
        return data
    try:
        return _cipher().decrypt(data)
    except InvalidToken as exc:
        raise EncryptionError(
            "None of the configured encryption keys opens this data: keep the old key in "
            "HEADSHOTS_ENCRYPTION_KEYS until `manage.py encryption rotate` has run."
        ) from exc


def rotate(data: bytes) -> bytes:
    """The same data encrypted with the first key (plaintext gets encrypted)."""
    data = bytes(data)
    if not is_encrypted(data):
        return encrypt(data)
    try:
        return _cipher().rotate(data)
    except InvalidToken as exc:
        raise EncryptionError("None of the configured encryption keys opens this data.") from exc


# What each app keeps encrypted, re-encrypted by `manage.py encryption rotate`: every app
# registers a function that rotates its own data (in its AppConfig.ready) and returns
# counts, e.g. {"files": 12, "embeddings": 4}.
_ROTATIONS: dict[str, Callable[[], dict[str, int]]] = {}


def register_rotation(name: str, rotate_all: Callable[[], dict[str, int]]) -> None:
    _ROTATIONS[name] = rotate_all


def rotate_everything() -> dict[str, int]:
    totals: dict[str, int] = {}
    for rotate_all in _ROTATIONS.values():
        for kind, count in rotate_all().items():
            totals[kind] = totals.get(kind, 0) + count
    return totals


def rotate_text(sealed: str) -> str:
    """A secret stored as text (apps.organizations.tenant_secrets.seal), re-encrypted."""
    return rotate(sealed.encode("ascii")).decode("ascii")
