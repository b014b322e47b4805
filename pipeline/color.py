"""White balance: the colour of the light a photo was taken in, and the photo as it would
look in neutral light.

The illuminant is estimated with the grey-edge hypothesis (van de Weijer, Gevers and
Gijsenij, 2007): the average of the scene's edges is neutral. Edges come from the
person's outline, hair, eyes and clothing more than from a wall of one colour, so a
coloured background or a large area of skin bias it less than a grey-world average. The
estimate scales with each channel, so a colour cast (a channel multiplied) is undone
exactly; clipped and black pixels, which carry no colour, are left out.

Skin tone is measured on the balanced photo (``checks.attributes``) and the studio
renderer balances before it grades to the preset's colour temperature, so the same
person under tungsten and under daylight gives the same skin tone.
"""

from __future__ import annotations

import numpy as np

# A correction stronger than this per channel would be guessing (a scene of one colour).
MAX_GAIN = 2.6
MINKOWSKI_P = 6
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # Rec. 601, as JPEG's Y


def illuminant_gains(pixels: np.ndarray) -> np.ndarray:
    """Per-channel multipliers (RGB, geometric mean 1) that neutralise the photo's light."""
    import cv2

    height, width = pixels.shape[:2]
    scale = min(1.0, 512.0 / max(height, width))
    if scale < 1.0:  # reduced before it is made float: a 12 MP photo is 50 MB as float
        size = (round(width * scale), round(height * scale))
        if pixels.dtype == np.uint8:
            pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
        else:
            pixels = cv2.resize(pixels.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    image: np.ndarray = pixels.astype(np.float32) / 255.0
    usable = (image.max(axis=2) < 0.97) & (image.min(axis=2) > 0.03)
    usable = cv2.erode(usable.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if usable.sum() < 500:
        return np.ones(3, dtype=np.float32)
    smooth = cv2.GaussianBlur(image, (0, 0), 1.0)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    edges = np.sqrt(gx * gx + gy * gy)[usable]
    estimate = np.power(np.mean(np.power(edges, MINKOWSKI_P), axis=0), 1.0 / MINKOWSKI_P)
    if not np.all(estimate > 1e-6):
        return np.ones(3, dtype=np.float32)
    gains = np.clip(1.0 / estimate / np.exp(np.log(1.0 / estimate).mean()), 1 / MAX_GAIN, MAX_GAIN)
    # Colour, not exposure: the photo's luminance stays what it was.
    pixels_used = image[usable]
    before = float((pixels_used @ LUMA).mean())
    after = float(((pixels_used * gains) @ LUMA).mean())
    if after > 1e-6:
        gains = gains * (before / after)
    return gains.astype(np.float32)


def white_balanced(pixels: np.ndarray, gains: np.ndarray | None = None) -> np.ndarray:
    """The photo in neutral light (float32, 0..255), with ``gains`` or its own estimate."""
    if gains is None:
        gains = illuminant_gains(pixels)
    return np.clip(pixels.astype(np.float32) * gains[None, None, :], 0.0, 255.0)
