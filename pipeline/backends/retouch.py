"""Skin retouching by frequency separation, inside the face's skin only.

The skin is split into three bands by the size of what they hold, measured in
inter-ocular distances (IOD) so that the same face retouches the same at any scale:
- fine (under IOD/60): pores, freckles, fine hair. Never changed.
- middle (IOD/60 to IOD/9): blemishes, small spots, uneven patches. Softened.
- broad (over IOD/9): the face's form and its light. Evened a little toward its own
  wider average (tone), and lifted under the eyes where it is darker than the cheeks.
Eyes, brows, lips and nostrils, with a margin, are outside the skin mask: no feature
moves or changes. Every change is a per-pixel gain or offset; no pixel moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.faces.mesh import FaceRegions

FINE_IOD = 1 / 60  # the boundary between fine and middle, in IOD
BROAD_IOD = 1 / 9  # between middle and broad
TONE_IOD = 1 / 3  # the wider average the broad band is evened toward
UNDER_EYE_LIFT = 0.7  # share of the under-eye shadow lifted at full strength
WIDE_BLUR_SIGMA = 4.0  # blurs wider than twice this run at a reduced size
SPOT_SIGMAS = 3.0  # a spot: the middle band this many robust deviations from the skin's
SPOT_MAX_IOD = 1 / 12  # the largest spot's radius, in IOD
SPOT_ELONGATION = 2.0  # a spot at most this much longer than wide
SPOT_FINE_HEAL = 0.8  # share of a spot's fine band healed with it


@dataclass(frozen=True)
class RetouchBands:
    """How much of each band the retouch kept inside the skin (1.0: untouched)."""

    fine: float
    middle: float

    def as_dict(self) -> dict[str, float]:
        return {"fine_kept": round(self.fine, 3), "middle_kept": round(self.middle, 3)}


@dataclass(frozen=True)
class Retouched:
    pixels: np.ndarray  # H x W x 3, float32
    spots: np.ndarray  # H x W, float32: where spots were healed (0..1)


def retouch(pixels: np.ndarray, regions: FaceRegions, *, iod: float, strength: float) -> Retouched:
    """``pixels`` (H x W x 3, float32, 0..255) with the skin retouched at ``strength``
    (0..0.5, the preset's value within its cap)."""
    import cv2

    none = np.zeros(pixels.shape[:2], np.float32)
    box = _box(regions.skin, margin=round(iod * 0.5))
    if strength <= 0 or box is None:
        return Retouched(pixels=pixels, spots=none)
    y0, y1, x0, x1 = box
    patch = pixels[y0:y1, x0:x1].astype(np.float32)
    skin = regions.skin[y0:y1, x0:x1]
    under = regions.under_eyes[y0:y1, x0:x1]
    fine_sigma, broad_sigma = max(0.6, iod * FINE_IOD), max(1.5, iod * BROAD_IOD)
    smooth = cv2.GaussianBlur(patch, (0, 0), sigmaX=fine_sigma)
    broad = _skin_blur(patch, skin, broad_sigma)
    fine = patch - smooth
    middle = smooth - broad
    # the middle band: blemishes softened (all of it at strength 0.5); spots that stand
    # out from the skin's own texture healed, their fine band with them
    amount = min(1.0, 2.0 * strength)
    spots = _spots(middle, skin, fine_sigma, iod) * min(1.0, 4.0 * strength)
    middle_gain = 1.0 - np.maximum(amount * skin, spots)
    fine_gain = 1.0 - SPOT_FINE_HEAL * spots
    # the broad band: evened toward its wider average, the light's form kept
    wide = _skin_blur(patch, skin, max(3.0, iod * TONE_IOD))
    evened = broad + strength * skin[:, :, None] * (wide - broad)
    # under the eyes: lifted toward the cheeks' level, in luminance (colour kept)
    luma = evened.mean(axis=2)
    # the level of the skin around the band (the cheeks, the nose's side), the band left out
    around = _skin_blur(patch, skin * (1.0 - under), max(3.0, iod * TONE_IOD)).mean(axis=2)
    shadow = np.clip(around - luma, 0.0, None) * under
    lift = 1.0 + min(1.0, 2.0 * strength) * UNDER_EYE_LIFT * shadow / np.maximum(luma, 1.0)
    result = (
        evened * lift[:, :, None] + middle * middle_gain[:, :, None] + fine * fine_gain[:, :, None]
    )
    out = pixels.copy()
    out[y0:y1, x0:x1] = result
    none[y0:y1, x0:x1] = spots
    return Retouched(pixels=out, spots=none)


def band_energy(
    before: np.ndarray,
    after: np.ndarray,
    regions: FaceRegions,
    *,
    iod: float,
    healed: np.ndarray | None = None,
) -> RetouchBands:
    """The share of the fine and middle bands' energy inside the skin kept by a retouch,
    outside the spots it ``healed`` (those are meant to go)."""
    import cv2

    inside = regions.skin > 0.9
    if healed is not None:
        inside &= healed < 0.05
    if not inside.any():
        return RetouchBands(fine=1.0, middle=1.0)
    fine_sigma, broad_sigma = max(0.6, iod * FINE_IOD), max(1.5, iod * BROAD_IOD)

    def bands(image: np.ndarray) -> tuple[float, float]:
        grey = image.astype(np.float32).mean(axis=2)
        smooth = cv2.GaussianBlur(grey, (0, 0), sigmaX=fine_sigma)
        broad = cv2.GaussianBlur(grey, (0, 0), sigmaX=broad_sigma)
        return float(np.std((grey - smooth)[inside])), float(np.std((smooth - broad)[inside]))

    (fine_before, middle_before), (fine_after, middle_after) = bands(before), bands(after)
    return RetouchBands(
        fine=fine_after / max(fine_before, 1e-6), middle=middle_after / max(middle_before, 1e-6)
    )


def _spots(middle: np.ndarray, skin: np.ndarray, fine_sigma: float, iod: float) -> np.ndarray:
    """Where the middle band stands out from the skin's own texture (a blemish, a spot):
    a soft mask grown a little past the spot's edge."""
    import cv2

    grey = middle.mean(axis=2)
    inside = skin > 0.9
    if inside.sum() < 100:
        return np.zeros_like(skin)
    values = grey[inside]
    spread = 1.4826 * float(np.median(np.abs(values - np.median(values)))) + 1e-3
    found = ((np.abs(grey) > SPOT_SIGMAS * spread) & inside).astype(np.uint8)
    # a spot is small and round: lines (smile lines, wrinkles) and large patches stay
    count, labels, stats, _ = cv2.connectedComponentsWithStats(found, connectivity=8)
    largest = np.pi * (SPOT_MAX_IOD * iod) ** 2
    mask = np.zeros_like(found)
    for label in range(1, count):
        x, y, width, height, area = (int(v) for v in stats[label])
        if area > largest:
            continue
        window = labels[y : y + height, x : x + width] == label
        if area >= 5 and _elongation(window) > SPOT_ELONGATION:
            continue
        mask[y : y + height, x : x + width][window] = 1
    grow = max(1, round(fine_sigma * 1.5))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    return np.minimum(cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigmaX=fine_sigma), skin)


def _elongation(shape: np.ndarray) -> float:
    """How much longer than wide a blob is (the ratio of its principal axes)."""
    ys, xs = np.nonzero(shape)
    spread = np.linalg.eigvalsh(np.cov(np.vstack([xs, ys]).astype(np.float64)) + np.eye(2) * 0.25)
    return float(np.sqrt(spread[1] / spread[0]))


def wide_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur; a wide one computed at a reduced size and enlarged back (what it
    keeps is smooth at the reduced scale, and a wide kernel at full size costs tens of
    times more)."""
    import cv2

    factor = int(sigma // WIDE_BLUR_SIGMA)
    if factor < 2:
        return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma)
    height, width = image.shape[:2]
    small = cv2.resize(
        image,
        (max(1, round(width / factor)), max(1, round(height / factor))),
        interpolation=cv2.INTER_AREA,
    )
    # the box average of the reduction already blurs by about factor / sqrt(12)
    reduced = math.sqrt(max(sigma**2 - factor**2 / 12.0, 0.25)) / factor
    blurred = cv2.GaussianBlur(small, (0, 0), sigmaX=reduced)
    return cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)


def _skin_blur(pixels: np.ndarray, skin: np.ndarray, sigma: float) -> np.ndarray:
    """A blur of the skin alone (normalised by the mask): hair and background beyond the
    face's edge never bleed into its average."""

    weight = wide_blur(skin, sigma)
    blurred = wide_blur(pixels * skin[:, :, None], sigma)
    plain = wide_blur(pixels, sigma)
    inside = np.clip(weight, 1e-3, None)[:, :, None]
    # where the skin is sparse the plain blur stands in
    share = np.clip(weight * 4.0, 0.0, 1.0)[:, :, None]
    return share * (blurred / inside) + (1.0 - share) * plain


def _box(mask: np.ndarray, *, margin: int) -> tuple[int, int, int, int] | None:
    rows, cols = np.nonzero(mask > 0.01)
    if rows.size == 0:
        return None
    height, width = mask.shape
    return (
        max(0, int(rows.min()) - margin),
        min(height, int(rows.max()) + margin + 1),
        max(0, int(cols.min()) - margin),
        min(width, int(cols.max()) + margin + 1),
    )


def five_point_regions(pixels: np.ndarray, geometry: tuple[float, float, float]) -> FaceRegions:
    """Regions for installs without the landmark model: the skin-coloured pixels inside an
    ellipse placed from the eyes and the face size, the eyes and mouth kept out. No
    under-eye band: five points cannot place it well enough."""
    import cv2

    eye_x, eye_y, face_px = geometry
    clipped = np.clip(pixels, 0, 255).astype(np.uint8)
    ycrcb = cv2.cvtColor(clipped, cv2.COLOR_RGB2YCrCb)
    colour = (
        (ycrcb[:, :, 1] >= 135)
        & (ycrcb[:, :, 1] <= 180)
        & (ycrcb[:, :, 2] >= 85)
        & (ycrcb[:, :, 2] <= 135)
    ).astype(np.float32)
    oval = np.zeros(colour.shape, np.float32)
    centre = (round(eye_x), round(eye_y + 0.2 * face_px))
    cv2.ellipse(oval, centre, (round(face_px * 0.45), round(face_px * 0.62)), 0, 0, 360, 1.0, -1)
    features = np.zeros(colour.shape, np.float32)
    eye_dx = 0.22 * face_px
    for dx in (-eye_dx, eye_dx):
        eye = (round(eye_x + dx), round(eye_y))
        cv2.ellipse(
            features, eye, (round(0.13 * face_px), round(0.08 * face_px)), 0, 0, 360, 1.0, -1
        )
    mouth = (round(eye_x), round(eye_y + 0.55 * face_px))
    cv2.ellipse(features, mouth, (round(0.22 * face_px), round(0.1 * face_px)), 0, 0, 360, 1.0, -1)
    sigma = max(1.0, face_px / 40)
    skin = cv2.GaussianBlur(colour * oval * (1.0 - features), (0, 0), sigmaX=sigma)
    return FaceRegions(
        skin=skin,
        under_eyes=np.zeros_like(skin),
        features=cv2.GaussianBlur(features, (0, 0), sigma),
    )
