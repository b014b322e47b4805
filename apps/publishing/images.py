"""The one way publishing reads a stored headshot and makes the sizes it sends out: the
directory's photo, the card's, the download pack's. Every decode is bounded by the
same pixel and byte limits as uploads (HEADSHOTS_MAX_UPLOAD_PIXELS / _BYTES)."""

from __future__ import annotations

import io
from typing import Any

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


def face_square(pixels: np.ndarray, scores: dict[str, float], *, head_fill: float) -> np.ndarray:
    """A square centred on the face, the head ``head_fill`` of its side (a circle shows it
    whole), from the eye line and head size the ranking measured on the headshot. Without
    them: the square with the head room kept, as for the download sizes."""
    height, width = pixels.shape[:2]
    eye_line, share = scores.get("eye_line"), scores.get("head_height_share")
    if not eye_line or not share:
        side = min(height, width)
        return fit_output(pixels, OutputSize(name="square", width=side, height=side))
    head = share * height
    side = int(min(height, width, max(head / head_fill, 64)))
    centre_x = scores.get("eye_x", 0.5) * width
    centre_y = eye_line * height + 0.1 * head  # the face a little above the middle
    x0 = int(min(max(round(centre_x - side / 2), 0), width - side))
    y0 = int(min(max(round(centre_y - side / 2), 0), height - side))
    return np.ascontiguousarray(pixels[y0 : y0 + side, x0 : x0 + side])


def target_jpeg(
    pixels: np.ndarray,
    scores: dict[str, float],
    *,
    side: int,
    head_fill: float,
    max_bytes: int,
    xmp: bytes | None = None,
) -> bytes:
    """A directory target's photo: face-centred and square, at most ``side`` pixels and
    ``max_bytes``, keeping the provenance label."""
    return limited_jpeg(
        face_square(pixels, scores, head_fill=head_fill),
        max_bytes=max_bytes,
        max_side=side,
        xmp=xmp,
    )


DIRECTORY_HEAD_FILL = 0.5  # LDAP / Active Directory photos, shown in Outlook's circle too


def headshot_target_jpeg(headshot: Any, *, side: int, head_fill: float, max_bytes: int) -> bytes:
    """A stored headshot as one directory target's photo (``target_jpeg``), from its file
    and the scores the ranking measured on it."""
    pixels, xmp = headshot_pixels(headshot.image.name)
    return target_jpeg(
        pixels, headshot.scores, side=side, head_fill=head_fill, max_bytes=max_bytes, xmp=xmp
    )
