"""How sharp a face is, judged at a fixed face size; and whether a whole photo is too
blurred to show a face."""

from __future__ import annotations

import numpy as np

# The face is judged at this height, the smallest face the checks accept: every accepted
# face is only ever shrunk to it (area averaging), so a photo enlarged 2x or 4x gives the
# same score as the original, and JPEG's 8 x 8 block edges average away instead of
# counting as detail.
SHARPNESS_FACE_PX = 64


def sharpness_score(gray: np.ndarray) -> float:
    """Variance of the Laplacian of the face crop at SHARPNESS_FACE_PX high, mapped into
    0..1 as v / (v + 150).

    The crop's contrast is normalised first (a dark photo is not a blurred one). A sharp
    face (variance > 350) scores above 0.7; a visibly soft one (a Gaussian blur of 2 px
    on a 90 px face, variance about 70) below 0.35. A crop smaller than the judging
    height is measured as it is, never enlarged (enlarging would invent edges).
    """
    import cv2

    height, width = gray.shape[:2]
    if height < 8 or width < 8:
        return 0.0
    if height > SHARPNESS_FACE_PX:
        scale = SHARPNESS_FACE_PX / height
        gray = cv2.resize(
            gray,
            (max(8, round(width * scale)), SHARPNESS_FACE_PX),
            interpolation=cv2.INTER_AREA,
        )
    crop = gray.astype(np.float64)
    spread = float(crop.std())
    if spread < 1.0:
        return 0.0
    crop = (crop - crop.mean()) * (45.0 / spread)
    variance = float(cv2.Laplacian(crop, cv2.CV_64F).var())
    return variance / (variance + 150.0)


# The whole photo is judged at this short side when no face is found (a face is then
# about the height the face measure uses); below this a photo is too small to say.
BLUR_SHORT_SIDE_PX = 256
# Sharp photos of people score 0.3 to 0.9 at that size; a blur of 1% of the short side
# brings them under 0.1 (measured on the sample corpus).
BLURRED_PHOTO = 0.12


def image_blurred(pixels: np.ndarray) -> bool:
    """Whether the whole photo is too blurred to show a face (why none was found)."""
    import cv2

    gray = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)
    height, width = gray.shape[:2]
    if min(height, width) < BLUR_SHORT_SIDE_PX:
        return False
    scale = BLUR_SHORT_SIDE_PX / min(height, width)
    small = cv2.resize(
        gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
    ).astype(np.float64)
    spread = float(small.std())
    if spread < 1.0:
        return False  # a flat picture: nothing to judge, not a blur
    small = (small - small.mean()) * (45.0 / spread)
    variance = float(cv2.Laplacian(small, cv2.CV_64F).var())
    return variance / (variance + 150.0) < BLURRED_PHOTO
