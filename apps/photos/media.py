from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import User

from apps.core.media import MediaFile, sniffed_type
from apps.core.storage import private_read
from apps.organizations.access import may_view_person_media
from apps.photos.models import Photo

if TYPE_CHECKING:
    from PIL import Image


def photo_media(user: User, pk: int) -> MediaFile | None:
    """A selfie (the stored re-encoded copy, decrypted)."""
    photo = Photo.objects.select_related("employee").filter(pk=pk).first()
    if photo is None or not may_view_person_media(user=user, employee=photo.employee):
        return None
    data = private_read(photo.normalised.name)
    return MediaFile(data, sniffed_type(data))


def photo_marked_media(user: User, pk: int) -> MediaFile | None:
    """The selfie with what the checks found drawn on it, for the upload page's verdict:
    the face box (green when the photo is usable, red when not) and, when a light check
    failed or warned, the areas too dark or blown out tinted red."""
    import io

    from PIL import Image, ImageDraw

    found = photo_media(user, pk)
    if found is None:
        return None
    photo = Photo.objects.get(pk=pk)
    box = (photo.report or {}).get("face_box")
    light_problem = any(
        c.get("code") in LIGHT_CHECKS and c.get("status") in {"warn", "fail"}
        for c in (photo.report or {}).get("checks", [])
    )
    with Image.open(io.BytesIO(found.data)) as opened:
        image = opened.convert("RGB")
        if light_problem:
            image = _tint_bad_light(image)
        if box:
            draw = ImageDraw.Draw(image)
            colour = (30, 140, 70) if (photo.report or {}).get("usable") else (200, 30, 30)
            width = max(3, image.width // 200)
            draw.rectangle([tuple(box[:2]), tuple(box[2:])], outline=colour, width=width)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=85)
    return MediaFile(out.getvalue(), "image/jpeg")


LIGHT_CHECKS = {"exposure", "clipping", "side_shadow"}
DARK_LUMA, BRIGHT_LUMA = 40, 250


def _tint_bad_light(image: Image.Image) -> Image.Image:
    """Pixels too dark or blown out, tinted red at half strength."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(image).astype(np.float32)
    luma = pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    bad = (luma < DARK_LUMA) | (luma > BRIGHT_LUMA)
    pixels[bad] = 0.5 * pixels[bad] + 0.5 * np.array([220.0, 30.0, 30.0], dtype=np.float32)
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
