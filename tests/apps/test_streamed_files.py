"""Private files are encrypted and decrypted as streams: any size passes through a fixed
amount of memory, and a file changed, reordered or cut short does not open."""

from __future__ import annotations

import hashlib
import os
import tracemalloc

import pytest
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.core.crypto import HEADER, SEGMENT, TAG, EncryptionError
from apps.core.storage import (
    private_copy_to,
    private_open,
    private_read,
    private_read_raw,
    private_replace,
    private_rotate,
    private_save,
)

MB = 1024 * 1024


class Digest:
    """A file-like sink that keeps only a hash of what is written to it."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return len(data)


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 123])
def test_every_size_comes_back_whole_and_nothing_is_stored_in_clear(size):
    data = os.urandom(size // 2) + b"face" * (size // 8) + b"x" * (size - size // 2 - size // 8 * 4)
    assert len(data) == size
    name = private_save("org-1/employee-1/photos", data, suffix=".bin", encrypted=True)
    stored = private_read_raw(name)
    assert stored.startswith(b"HSE1") and (size < 64 or data[:64] not in stored)
    segments = max(1, -(-size // SEGMENT))
    assert len(stored) == HEADER + size + segments * TAG  # 28 bytes a file, 16 a segment
    assert private_read(name) == data


def _stored(size: int = 3 * SEGMENT + 10) -> tuple[str, bytes, bytes]:
    data = os.urandom(size)
    name = private_save("org-1/employee-1/photos", data, suffix=".bin", encrypted=True)
    return name, data, private_read_raw(name)


def _tampered(name: str, stored: bytes) -> None:
    private_replace(name, stored)
    with pytest.raises(EncryptionError, match="changed or cut short"):
        private_read(name)


def test_a_changed_byte_a_moved_segment_a_cut_or_an_addition_is_refused():
    name, _, stored = _stored()
    one = SEGMENT + TAG
    body = stored[HEADER:]
    flipped = bytearray(stored)
    flipped[HEADER + one + 100] ^= 1
    _tampered(name, bytes(flipped))  # a byte of the second segment
    _tampered(name, stored[:HEADER] + body[one : 2 * one] + body[:one] + body[2 * one :])
    _tampered(name, stored[: HEADER + 3 * one])  # the last segment dropped
    _tampered(name, stored[: HEADER + one])  # cut after the first
    _tampered(name, stored[:HEADER])  # nothing left but the header
    _tampered(name, stored + b"\0" * TAG)  # something added
    header = bytearray(stored[:HEADER])
    header[-1] ^= 1  # another salt: another key for every segment
    _tampered(name, bytes(header) + body)


def test_files_stay_readable_across_a_key_rotation_and_old_files_too(settings):
    old_key = settings.HEADSHOTS_ENCRYPTION_KEYS[0]
    name, data, stored = _stored()
    legacy = default_storage.save(  # a file written before the stream format
        "org-1/employee-1/photos/legacy.bin", ContentFile(Fernet(old_key).encrypt(b"old selfie"))
    )
    assert private_read(legacy) == b"old selfie"
    new_key = Fernet.generate_key().decode()
    settings.HEADSHOTS_ENCRYPTION_KEYS = [new_key, old_key]
    assert private_read(name) == data  # the old key still opens it
    assert private_rotate(name) == 1 and private_rotate(legacy) == 1
    assert private_rotate(name) == 0  # under the first key already: left alone
    assert private_read_raw(legacy).startswith(b"HSE1")
    settings.HEADSHOTS_ENCRYPTION_KEYS = [new_key]
    assert private_read(name) == data and private_read(legacy) == b"old selfie"
    settings.HEADSHOTS_ENCRYPTION_KEYS = [old_key]
    with pytest.raises(EncryptionError, match="None of the configured encryption keys"):
        private_read(name)


def _peak(work) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_file_is_written_and_read_through_a_fixed_amount_of_memory(tmp_path):
    """A 48 MB file (a per-person model, an export) is encrypted into storage and read
    back to a sink in well under 2 MB of memory; read whole, it takes its own size."""
    source = tmp_path / "model.safetensors"
    digest = hashlib.sha256()
    with source.open("wb") as handle:
        for _ in range(48):
            block = os.urandom(MB)
            digest.update(block)
            handle.write(block)
    saved: list[str] = []

    def write() -> None:
        with source.open("rb") as handle:
            saved.append(
                private_save("org-1/employee-1/models", handle, suffix=".enc", encrypted=True)
            )

    assert _peak(write) < 2 * MB
    sink = Digest()
    assert _peak(lambda: private_copy_to(saved[0], sink)) < 2 * MB
    assert sink.size == 48 * MB and sink.hash.digest() == digest.digest()
    assert _peak(lambda: private_read(saved[0])) > 48 * MB  # what the stream spares


def test_a_stream_opened_and_read_in_small_pieces_is_the_file(tmp_path):
    name, data, _ = _stored(2 * SEGMENT + 7)
    with private_open(name) as handle:
        pieces = []
        while piece := handle.read(1000):
            pieces.append(piece)
    assert b"".join(pieces) == data
