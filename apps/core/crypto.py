"""Encryption at rest for biometric data (selfies, identity embeddings), with key rotation.

Keys are Fernet keys from HEADSHOTS_ENCRYPTION_KEYS (comma-separated, or its _FILE form):
the first encrypts, all decrypt, so a new key is put first, `manage.py encryption rotate`
re-encrypts everything with it, and the old key is then removed. Without the variable
(the one-machine default) a key is made once in VAR_DIR/secrets/encryption.key, readable
by its owner only; production requires the variable.

Two formats:
- small values kept in the database (embeddings, tenant secrets) are Fernet tokens
  (AES-128-CBC with HMAC-SHA256);
- files are encrypted as a stream, 64 KiB at a time, so a file of any size is written
  and read through a fixed amount of memory: a header (``HSE1``, the key's id, a random
  salt), then each segment sealed with AES-256-GCM under a key derived from the Fernet
  key and the salt (HKDF-SHA256). Each segment's nonce is its number and whether it is
  the last, so a segment changed, moved, dropped or a file cut short fails to open.
Files written before the stream format (whole Fernet tokens) are still read.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# Every Fernet token starts with its version byte 0x80, base64-encoded: "gAAAAA".
TOKEN_PREFIX = b"gAAAAA"
KEY_GONE = (
    "None of the configured encryption keys opens this data: keep the old key in "
    "HEADSHOTS_ENCRYPTION_KEYS until `manage.py encryption rotate` has run."
)


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


def _keys() -> list[str]:
    return list(settings.HEADSHOTS_ENCRYPTION_KEYS) or [_local_key()]


def _cipher() -> MultiFernet:
    keys = _keys()
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise EncryptionError(
            "HEADSHOTS_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe "
            'base64 bytes); make one with `python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"`.'
        ) from exc


def is_encrypted(data: bytes) -> bool:
    head = bytes(data[: len(TOKEN_PREFIX)])
    return head == TOKEN_PREFIX or head.startswith(STREAM_MAGIC)


def encrypt(data: bytes) -> bytes:
    return _cipher().encrypt(bytes(data))


def decrypt(data: bytes) -> bytes:
    """The plaintext; data stored before encryption was turned on is returned as it is."""
    data = bytes(data)
    if data.startswith(STREAM_MAGIC):
        return decrypting_reader(io.BytesIO(data)).read()
    if not is_encrypted(data):
        return data
    try:
        return _cipher().decrypt(data)
    except InvalidToken as exc:
        raise EncryptionError(KEY_GONE) from exc


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


# -- files: encrypted as a stream ----------------------------------------------------------------
STREAM_MAGIC = b"HSE1"
SEGMENT = 64 * 1024  # plaintext bytes a segment
TAG = 16  # AES-GCM's tag, after each segment
KEY_ID = 8
SALT = 16
HEADER = len(STREAM_MAGIC) + KEY_ID + SALT
OPEN_FAILED = (
    "This file was changed or cut short since it was stored; it cannot be opened. "
    "Restore it from a backup, or delete it and make it again."
)


def _stream_secrets() -> list[tuple[bytes, bytes]]:
    """(key id, secret) of each configured key, the first the one that encrypts."""
    _cipher()  # a clear message for a value that is not a key
    secrets = [base64.urlsafe_b64decode(key.encode()) for key in _keys()]
    return [(hashlib.sha256(b"headshots stream key id" + s).digest()[:KEY_ID], s) for s in secrets]


def _segment_cipher(secret: bytes, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"headshots stream v1")
    return AESGCM(hkdf.derive(secret))


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _read_full(source: BinaryIO, size: int) -> bytes:
    """``size`` bytes, fewer only at the end (a stream may hand back less at a time)."""
    parts, got = [], 0
    while got < size:
        part = source.read(size - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


class _Segments(io.RawIOBase):
    """A stream made of ``source`` a segment at a time (``_segment`` says how), each
    segment knowing whether it is the last by reading the next one ahead."""

    def _begin(self, source: BinaryIO, segment: int, out: bytes = b"") -> None:
        self._source = source
        self._size = segment
        self._next = _read_full(source, segment)
        self._index = 0
        self._out = memoryview(out)
        self._done = False

    def _segment(self, index: int, last: bool, chunk: bytes) -> bytes:
        raise NotImplementedError

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._out and not self._done:
            chunk = self._next
            self._next = _read_full(self._source, self._size) if len(chunk) == self._size else b""
            last = not self._next
            self._out = memoryview(self._segment(self._index, last, chunk))
            self._index += 1
            self._done = last
        count = min(len(buffer), len(self._out))
        buffer[:count] = self._out[:count]
        self._out = self._out[count:]
        return count


class _Encrypting(_Segments):
    def __init__(self, source: BinaryIO) -> None:
        key_id, secret = _stream_secrets()[0]
        salt = os.urandom(SALT)
        self._header = STREAM_MAGIC + key_id + salt
        self._cipher = _segment_cipher(secret, salt)
        self._begin(source, SEGMENT, out=self._header)

    def _segment(self, index: int, last: bool, chunk: bytes) -> bytes:
        return self._cipher.encrypt(_nonce(index, last), chunk, self._header)


class _Decrypting(_Segments):
    def __init__(self, raw: BinaryIO) -> None:
        header = _read_full(raw, HEADER)
        if len(header) < HEADER or not header.startswith(STREAM_MAGIC):
            raise EncryptionError(OPEN_FAILED)
        key_id, salt = header[len(STREAM_MAGIC) : -SALT], header[-SALT:]
        secret = next((s for i, s in _stream_secrets() if i == key_id), None)
        if secret is None:
            raise EncryptionError(KEY_GONE)
        self._header = header
        self._cipher = _segment_cipher(secret, salt)
        self._begin(raw, SEGMENT + TAG)

    def _segment(self, index: int, last: bool, chunk: bytes) -> bytes:
        try:
            return self._cipher.decrypt(_nonce(index, last), chunk, self._header)
        except InvalidTag as exc:
            raise EncryptionError(OPEN_FAILED) from exc

    def close(self) -> None:
        self._source.close()
        super().close()


def encrypting_reader(source: BinaryIO) -> io.BufferedReader:
    """A stream of ``source`` encrypted, read as it is made (64 KiB at a time)."""
    return io.BufferedReader(_Encrypting(source), buffer_size=SEGMENT)


def decrypting_reader(raw: BinaryIO) -> io.BufferedReader:
    """The plaintext of a stream-encrypted file, opened as it is read; reading it raises
    EncryptionError where it was changed or cut short."""
    return io.BufferedReader(_Decrypting(raw), buffer_size=SEGMENT)


def stream_key_current(header: bytes) -> bool:
    """Whether a stream-encrypted file's header names the key that encrypts now."""
    key_id = header[len(STREAM_MAGIC) : len(STREAM_MAGIC) + KEY_ID]
    return header.startswith(STREAM_MAGIC) and key_id == _stream_secrets()[0][0]
