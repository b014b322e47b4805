"""The face-preserving mode: the person's own face from their best selfie, kept pixel for
pixel, and everything around it (the hair's edge, attire, backdrop) made by SDXL
inpainting, then the seam harmonised. Identity by construction: no identity model, no
training, nothing about the face invented.

The selfie is framed as the preset asks (``framing.framing_matrix``, as the studio and
the control images are). The face's core, from the brows to the chin and cheek to cheek,
is placed from the eyes. The inpainting model sees the framed selfie with everything
outside the core to repaint. Its output is laid over the framed selfie outside the core
(``composite``), so the face's pixels stay exactly those of the selfie, and only then
is the face's colour moved a little toward the new light round it (``harmonise``,
at most HARMONY_MAX_DELTA_E).
"""

from __future__ import annotations

import math

import numpy as np

from pipeline.faces.geometry import head_axes

# The face's core round the point between the eyes, in eye distances: 0.45 down the
# face's centre, 0.95 to each side, up to the brows' top (0.75 above its centre) and
# down to the chin (1.35 below).
CORE_DROP = 0.45
CORE_HALF_WIDTH = 0.95
CORE_UP = 0.75
CORE_DOWN = 1.35
# The soft edge of the kept face (eye distances): the generated and the kept blend over it.
FEATHER = 0.12
# The harmonisation moves the face's colour by at most this (CIELAB ΔE), and by half the
# difference between the new surroundings and the selfie's own.
HARMONY_MAX_DELTA_E = 6.0


def core_outline(eyes: tuple[np.ndarray, np.ndarray], points: int = 64) -> np.ndarray:
    """Points (N x 2) round the face's core, in the image the eyes are in."""
    between, across, down, iod = head_axes(eyes)
    centre = between + CORE_DROP * iod * down
    angles = np.linspace(0.0, 2.0 * math.pi, points, endpoint=False)
    x = np.cos(angles) * CORE_HALF_WIDTH
    y = np.sin(angles) * np.where(np.sin(angles) < 0, CORE_UP, CORE_DOWN)
    return centre + (x[:, None] * across + y[:, None] * down) * iod


def face_masks(
    eyes: tuple[np.ndarray, np.ndarray], size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(kept: float32 H x W, 1 inside the core fading to 0 over the feather outside it;
    repaint: uint8 H x W, 255 where the model generates, 0 on the core's inner part)."""
    import cv2

    width, height = size
    iod = head_axes(eyes)[3]
    hard = np.zeros((height, width), np.uint8)
    cv2.fillPoly(hard, [np.round(core_outline(eyes)).astype(np.int32)], 1)
    feather = max(1.0, FEATHER * iod)
    # the kept face fades out just outside the core; the model repaints from just inside it
    grown = cv2.dilate(hard, _disc(round(feather)))
    kept = cv2.GaussianBlur(grown.astype(np.float32), (0, 0), sigmaX=feather / 2.0)
    kept = np.maximum(kept, hard.astype(np.float32))
    inner = cv2.erode(hard, _disc(round(feather)))
    repaint = np.where(inner > 0, 0, 255).astype(np.uint8)
    return np.clip(kept, 0.0, 1.0), repaint


def composite(generated: np.ndarray, framed: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """The generated picture with the selfie's own face laid back over it."""
    weight = kept[:, :, None]
    mixed = generated.astype(np.float32) * (1.0 - weight) + framed.astype(np.float32) * weight
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def harmonise(
    image: np.ndarray, framed: np.ndarray, kept: np.ndarray, eyes: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, float]:
    """The kept face's colour moved toward the new light round it: half the CIELAB
    difference between the picture and the selfie in a ring just outside the core, at
    most HARMONY_MAX_DELTA_E, applied over the kept face only. Returns (picture, ΔE)."""
    import cv2

    height, width = kept.shape
    outer = np.zeros((height, width), np.uint8)
    cv2.fillPoly(outer, [np.round(_grown_outline(eyes, 0.35)).astype(np.int32)], 1)
    ring = (outer > 0) & (kept < 0.05)
    if not ring.any():
        return image, 0.0
    as_lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    before = cv2.cvtColor(framed.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    shift = 0.5 * (as_lab[ring].mean(axis=0) - before[ring].mean(axis=0))
    size = float(np.linalg.norm(shift))
    if size > HARMONY_MAX_DELTA_E:
        shift *= HARMONY_MAX_DELTA_E / size
    as_lab += kept[:, :, None] * shift[None, None, :].astype(np.float32)
    as_lab[:, :, 0] = np.clip(as_lab[:, :, 0], 0.0, 100.0)
    rgb = np.clip(cv2.cvtColor(as_lab, cv2.COLOR_LAB2RGB) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    # only the kept face changes (the colour conversion alone would move other pixels by 1)
    eased = np.where(kept[:, :, None] > 0, rgb, image)
    return eased, round(min(size, HARMONY_MAX_DELTA_E), 2)


def _grown_outline(eyes: tuple[np.ndarray, np.ndarray], by: float) -> np.ndarray:
    """The core's outline pushed ``by`` eye distances outwards from its centre."""
    outline = core_outline(eyes)
    centre = outline.mean(axis=0)
    iod = head_axes(eyes)[3]
    direction = outline - centre
    lengths = np.linalg.norm(direction, axis=1, keepdims=True)
    return outline + direction / np.maximum(lengths, 1e-6) * by * iod


def _disc(radius: int) -> np.ndarray:
    import cv2

    radius = max(1, radius)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
