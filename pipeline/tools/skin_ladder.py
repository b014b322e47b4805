"""A skin-tone ladder: one real portrait with its skin re-toned across the ten levels of
the Monk Skin Tone scale, the scene, light, hair, eyes, brows and lips untouched. The
fixture for verdict parity: every check, the render and the gates should say the same
along it in good light.

Re-toning happens in linear light: a skin of another reflectance under the same light is
the same picture with each skin pixel's linear value scaled by the ratio of the two
reflectances, so shading and light direction stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.faces.mesh import (
    FACE_OVAL,
    LEFT_BROW,
    LEFT_EYE,
    LIPS,
    RIGHT_BROW,
    RIGHT_EYE,
    Mesh,
    filled,
)

# The ten Monk Skin Tone swatches (Google's published sRGB values), lightest first.
MONK = (
    "#f6ede4",
    "#f3e7db",
    "#f7ead0",
    "#eadaba",
    "#d7bd96",
    "#a07e56",
    "#825c43",
    "#604134",
    "#3a312a",
    "#292420",
)
# Pixels outside the face oval join the skin when this close (CIELAB ΔE) to the face's
# own skin, below the eye line and inside the person: the neck, the ears.
EXTEND_DELTA_E = 14.0


@dataclass(frozen=True)
class Rung:
    level: int  # 1..10
    pixels: np.ndarray


def swatch_linear(level: int) -> np.ndarray:
    colour = MONK[level - 1]
    srgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], np.float64) / 255.0
    return to_linear(srgb)


def to_linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def to_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def skin_mask(pixels: np.ndarray, mesh: Mesh, person: np.ndarray | None = None) -> np.ndarray:
    """The skin to re-tone (H x W, float 0..1): the face oval without the eye openings,
    the brows and the lips (eyelids and the skin round the mouth are skin), and skin of
    the same colour below the eyes inside the person (neck, ears)."""
    import cv2

    from pipeline.faces.regions import lab

    height, width = pixels.shape[:2]

    def fill(outlines: tuple[tuple[int, ...], ...]) -> np.ndarray:
        return filled([mesh.outline(o) for o in outlines], (height, width)).astype(bool)

    kept = fill((RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW, LIPS))
    face = fill((FACE_OVAL,)) & ~kept
    colours = lab(pixels)
    reference = colours[face].mean(axis=0)
    distance = np.linalg.norm(colours - reference, axis=2)
    eye_line = float(mesh.outline(RIGHT_EYE)[:, 1].mean())
    below = np.zeros(distance.shape, bool)
    below[int(max(0.0, eye_line)) :, :] = True
    extended = (distance < EXTEND_DELTA_E) & below & ~kept
    if person is not None:
        extended &= person > 0.5
    skin = face | extended
    # soft at the skin's outer edge, full right up to the eyes, brows and lips
    soft = cv2.GaussianBlur(skin.astype(np.float32), (0, 0), sigmaX=max(0.8, mesh.iod / 40))
    return np.where(skin, 1.0, soft).astype(np.float32) * (~kept)


def source_level(pixels: np.ndarray, mask: np.ndarray) -> int:
    """The Monk level whose swatch is nearest the skin's own lightness (CIELAB L*)."""
    from pipeline.faces.regions import lab

    measured = float(lab(pixels)[mask > 0.9][:, 0].mean())
    swatches = [
        float(lab(np.array([[[int(c[i : i + 2], 16) for i in (1, 3, 5)]]], np.uint8))[0, 0, 0])
        for c in MONK
    ]
    return 1 + int(np.argmin([abs(s - measured) for s in swatches]))


def retone(pixels: np.ndarray, mask: np.ndarray, *, source: int, target: int) -> np.ndarray:
    """``pixels`` with the skin in ``mask`` moved from Monk level ``source`` to ``target``."""
    gain = swatch_linear(target) / swatch_linear(source)
    linear = to_linear(pixels.astype(np.float64) / 255.0)
    weight = mask[:, :, None].astype(np.float64)
    retoned = linear * (1.0 - weight + weight * gain[None, None, :])
    return np.clip(to_srgb(retoned) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def ladder(pixels: np.ndarray, mesh: Mesh, person: np.ndarray | None = None) -> list[Rung]:
    """The portrait at every Monk level, the level nearest its own included as it is."""
    mask = skin_mask(pixels, mesh, person)
    source = source_level(pixels, mask)
    return [
        Rung(
            level, pixels if level == source else retone(pixels, mask, source=source, target=level)
        )
        for level in range(1, len(MONK) + 1)
    ]
