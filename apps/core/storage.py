"""Private file storage: every selfie, headshot and artifact goes through here.

Files are written and read as streams: an encrypted file is encrypted on its way into
storage and decrypted on its way out, 64 KiB at a time (apps.core.crypto), so a file of
any size (a per-person model, an export) passes through a fixed amount of memory. In
object storage a file being read is spooled to a temporary file on disk, not memory."""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import uuid
from typing import IO, BinaryIO, cast

from django.core.files.base import File
from django.core.files.storage import default_storage

Content = bytes | bytearray | memoryview | IO[bytes]
SPOOL_IN_MEMORY = 1024 * 1024  # a rewritten file larger than this waits on disk


def _stream(data: Content) -> BinaryIO:
    if isinstance(data, bytes | bytearray | memoryview):
        return io.BytesIO(data)
    return cast(BinaryIO, data)


def private_save(folder: str, data: Content, *, suffix: str, encrypted: bool = False) -> str:
    """Store ``data`` (bytes, or a file open for reading, streamed) under an unguessable
    name in ``folder``; return the storage name. ``encrypted`` for personal data with a
    face in it: encrypted before it leaves the process (apps.core.crypto)."""
    source = _stream(data)
    if encrypted:
        from apps.core.crypto import encrypting_reader

        source = encrypting_reader(source)
    return default_storage.save(f"{folder}/{uuid.uuid4().hex}{suffix}", File(source))


def private_open(name: str | None) -> BinaryIO:
    """The file's content as a stream, decrypted as it is read when it was stored
    encrypted. Close it when done (``with private_open(name) as handle``)."""
    from apps.core.crypto import STREAM_MAGIC, TOKEN_PREFIX, decrypt, decrypting_reader

    if not name:
        raise FileNotFoundError("no file is stored for this")
    handle = cast(BinaryIO, default_storage.open(name, "rb"))
    head = handle.read(len(TOKEN_PREFIX))
    handle.seek(0)
    if head.startswith(STREAM_MAGIC):
        return decrypting_reader(handle)
    if head == TOKEN_PREFIX:  # written before files were encrypted as a stream: small
        with handle:
            return io.BytesIO(decrypt(handle.read()))
    return handle


def private_read(name: str | None) -> bytes:
    """The file's whole content, decrypted when it was stored encrypted (for what must be
    held whole anyway: an image to decode, a model to load)."""
    with private_open(name) as handle:
        return bytes(handle.read())


def private_read_raw(name: str | None) -> bytes:
    if not name:
        raise FileNotFoundError("no file is stored for this")
    with default_storage.open(name, "rb") as handle:
        return bytes(handle.read())


def private_replace(name: str, data: Content) -> None:
    """Write new content under the same name (key rotation)."""
    default_storage.delete(name)
    saved = default_storage.save(name, File(_stream(data)))
    if saved != name:
        raise RuntimeError(f"{name} could not be rewritten in place (stored as {saved})")


def private_rotate(name: str | None) -> int:
    """Re-encrypt a stored file with the first key (encrypting one stored in clear);
    1 when it was rewritten. The new copy is made first (in memory up to 1 MB, on disk
    beyond), then put in the old one's place."""
    from apps.core.crypto import HEADER, encrypting_reader, stream_key_current

    if not name:
        return 0
    with default_storage.open(name, "rb") as handle:
        if stream_key_current(handle.read(HEADER)):
            return 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        with private_open(name) as plain:
            shutil.copyfileobj(encrypting_reader(plain), spool)
        spool.seek(0)
        private_replace(name, spool)
    return 1


def private_copy_to(name: str | None, target: IO[bytes]) -> None:
    """Copy the file's content (decrypted) into ``target``, a segment at a time."""
    with private_open(name) as handle:
        shutil.copyfileobj(handle, target)


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
