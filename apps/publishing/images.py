"""The one way publishing reads a stored headshot and makes the sizes it sends out: the
directory's photo, the card's, the download pack's. Every decode is bounded by the
same pixel and byte limits as uploads (HEADSHOTS_MAX_UPLOAD_PIXELS / _BYTES)."""

from __future__ import annotations

import io

import numpy as np
from django.conf import settings

from apps.core.storage import private_read
from pipeline.imaging import decode_image, encode, fit_jpeg, fit_output
from pipeline.presets import OutputSize


def headshot_pixels(name: str | None) -> tuple[np.ndarray, bytes | None]:
    """A stored headshot's pixels, and its XMP provenance packet (None when it has none)."""
    from PIL import Image

    data = private_read(name)
    limits = settings.HEADSHOTS
    pixels = decode_image(
        data, max_bytes=limits["MAX_UPLOAD_BYTES"], max_pixels=limits["MAX_UPLOAD_PIXELS"]
    ).pixels
    with Image.open(io.BytesIO(data)) as image:
        xmp = image.info.get("xmp")
    return pixels, xmp


def square_jpeg(
    pixels: np.ndarray, side: int, *, quality: int = 88, xmp: bytes | None = None
) -> bytes:
    """A square crop (the head room kept) at ``side`` pixels."""
    square = fit_output(pixels, OutputSize(name="square", width=side, height=side))
    return encode(square, quality=quality, xmp=xmp)


def limited_jpeg(
    pixels: np.ndarray, *, max_bytes: int, max_side: int, xmp: bytes | None = None
) -> bytes:
    """The largest, best square JPEG a directory takes (Active Directory: 100 KB), keeping
    the headshot's provenance label (its XMP digital source type) inside that limit."""
    data, _, _ = fit_jpeg(pixels, max_bytes=max_bytes, max_side=max_side, xmp=xmp)
    return data
