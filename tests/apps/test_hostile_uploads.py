"""A corpus of hostile and broken uploads, made here: each one is refused with a clear
reason and leaves nothing behind, or is accepted as a re-encoded JPEG with no metadata
and nothing but the picture."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from PIL import Image

from apps.core.crypto import is_encrypted
from apps.core.errors import ValidationFailed
from apps.core.storage import private_read
from apps.photos.models import Photo
from tests.apps.factories import upload


def picture(size: int = 96) -> np.ndarray:
    rng = np.random.default_rng(size)
    return rng.integers(0, 255, (size, size, 3), dtype=np.uint8)


def save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg(**options: object) -> bytes:
    return save(Image.fromarray(picture()), "JPEG", **options)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A small file whose header promises a giant image (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + width * 3) * 16, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", rows)
        + png_chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    data = bytearray(jpeg())
    marker = data.index(b"\xff\xc0") if b"\xff\xc0" in data else data.index(b"\xff\xc2")
    data[marker + 5 : marker + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.sh", "#!/bin/sh\necho owned\n")
    return buffer.getvalue()


def gps_exif_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 11.0), 3: "E", 4: (4.0, 53.0, 2.0)}  # GPSInfo
    exif[0x010F] = "PhoneMaker"
    return save(Image.fromarray(picture()), "JPEG", exif=exif.tobytes())


def animated_gif() -> bytes:
    frames = [Image.fromarray(picture(40 + i)).convert("P") for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def webp_truncated() -> bytes:
    data = save(Image.fromarray(picture()), "WEBP", quality=80)
    return data[: len(data) // 2]


REFUSED: dict[str, bytes] = {
    "empty": b"",
    "one byte": b"\xff",
    "plain text": b"just some words, not a photo\n",
    "html as jpg": b"<!doctype html><html><body><script>alert(1)</script></body></html>",
    "svg with script": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
    "pdf": b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
    "zip": zip_bytes(),
    "animated gif": animated_gif(),
    "gif bomb header": b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00" * 20,
    "png bomb 60000 px": png_declaring(60_000, 60_000),
    "png bomb 20000 px": png_declaring(20_000, 20_000),
    "jpeg bomb 65000 px": jpeg_declaring(65_000, 65_000),
    "truncated jpeg": jpeg()[: len(jpeg()) // 2],
    "truncated png": save(Image.fromarray(picture()), "PNG")[:-30],
    "jpeg header then garbage": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8,
    "php with jpeg magic": b"\xff\xd8\xff\xe0<?php system($_GET['c']); ?>",
    "truncated webp": webp_truncated(),
    "avif": b"\x00\x00\x00\x1cftypavif" + b"\x00" * 64,
    "bmp": save(Image.fromarray(picture()), "BMP"),
    "tiff": save(Image.fromarray(picture()), "TIFF"),
    "ico": save(Image.fromarray(picture(32)), "ICO"),
    "heic truncated": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00\x00\x10\x00meta",
    "png with a broken crc": save(Image.fromarray(picture()), "PNG")[:33]
    + b"\x00\x00\x00\x10IDAT"
    + b"\x01" * 16
    + b"BAD!"
    + png_chunk(b"IEND", b""),
}

ACCEPTED: dict[str, bytes] = {
    "jpeg with gps exif": gps_exif_jpeg(),
    "jpeg/zip polyglot": jpeg(quality=85) + zip_bytes(),
    "jpeg with a script in a comment": jpeg(comment=b"<script>alert(1)</script>"),
    "cmyk jpeg": save(Image.fromarray(picture()).convert("CMYK"), "JPEG"),
    "16-bit png": save(Image.fromarray(picture()[:, :, 0].astype(np.uint16) * 257), "PNG"),
    "png with alpha": save(Image.fromarray(picture()).convert("RGBA"), "PNG"),
    "palette png": save(Image.fromarray(picture()).convert("P"), "PNG"),
    "grayscale jpeg": save(Image.fromarray(picture()[:, :, 0]), "JPEG"),
    "tiny 8 px png": save(Image.fromarray(picture(8)), "PNG"),
    "webp": save(Image.fromarray(picture()), "WEBP", quality=80),
    "jpeg with an xmp packet": jpeg(xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>secret</x:xmpmeta>"),
}


def stored_files() -> set[str]:
    root = Path(django_settings.PRIVATE_MEDIA_ROOT)
    return {str(p) for p in root.rglob("*") if p.is_file()}


def test_the_corpus_is_large_enough():
    assert len(REFUSED) + len(ACCEPTED) >= 30


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_hostile_upload_is_refused_with_a_reason_and_leaves_nothing(acme, name):
    before = stored_files()
    with pytest.raises(ValidationFailed) as refused:
        upload(acme, REFUSED[name])
    assert refused.value.message and len(refused.value.message) > 20  # a sentence, not a code
    assert refused.value.extra["code"]
    assert not Photo.objects.filter(employee=acme.employee).exists()
    assert stored_files() == before


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_an_accepted_upload_is_kept_only_as_a_clean_jpeg(acme, name):
    before = stored_files()
    photo, created = upload(acme, ACCEPTED[name])
    assert created
    with default_storage.open(photo.normalised.name) as handle:
        assert is_encrypted(handle.read())  # a selfie is encrypted at rest
    stored = private_read(photo.normalised.name)
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.mode == "RGB"
    assert not image.getexif() and "xmp" not in image.info and "comment" not in image.info
    assert stored.endswith(b"\xff\xd9") and b"PK\x03\x04" not in stored  # nothing after the image
    assert b"<script>" not in stored and b"secret" not in stored and b"PhoneMaker" not in stored
    added = stored_files() - before
    assert [Path(f).name for f in added] == [Path(photo.normalised.name).name]  # not the upload


def test_uploads_are_rate_limited_per_person(acme, settings):
    from django.core.cache import cache

    from apps.core.errors import TooManyRequests

    cache.clear()
    settings.HEADSHOTS = {**settings.HEADSHOTS, "UPLOADS_PER_HOUR": 3}
    for name in ("webp", "palette png", "grayscale jpeg"):
        upload(acme, ACCEPTED[name])
    with pytest.raises(TooManyRequests) as limited:
        upload(acme, ACCEPTED["png with alpha"])
    assert limited.value.status_code == 429 and 0 < limited.value.extra["retry_after"] <= 3601
    cache.clear()
