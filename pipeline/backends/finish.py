"""The finishing both backends give a headshot: the preset's colour temperature, the skin
retouched within the preset's cap where the face mesh (or, without it, five landmarks)
finds it, and fine detail restored outside the skin. The studio renderer finishes each
prepared selfie with it; the diffusion backend finishes each generated image the same
way, after neutral white balance.
"""

from __future__ import annotations

import numpy as np

from pipeline.backends.retouch import five_point_regions, retouch
from pipeline.backends.studio_looks import kelvin_to_rgb
from pipeline.color import white_balanced
from pipeline.faces import Face
from pipeline.faces.mesh import FaceMesh, FaceRegions, regions
from pipeline.presets import BrandPreset

# Strength of the unsharp mask that restores fine detail after framing and resampling.
DETAIL_AMOUNT = 0.5
# The mesh's confidence below which its skin is not trusted (a turned or covered face).
MESH_MIN_SCORE = 0.5


def grade(person: np.ndarray, preset: BrandPreset) -> np.ndarray:
    """The preset's colour temperature at half strength: a hint of warmth or coolness,
    never a colour cast on skin; and its exposure, in stops (float32 in, float32 out)."""
    target = kelvin_to_rgb(preset.lighting.color_temperature_k)
    neutral = kelvin_to_rgb(5500)
    gains = 1.0 + 0.5 * (target / neutral - 1.0)
    gains = gains / gains.mean() * 2.0**preset.lighting.exposure
    return person * gains[None, None, :]


def skin_regions(
    pixels: np.ndarray,
    face: Face,
    mesh: FaceMesh | None,
    geometry: tuple[float, float, float],
) -> tuple[FaceRegions, str]:
    """Where the skin is, and what found it: the mesh when it is loaded and sure of the
    face, else an estimate from the eyes and the face's size (``geometry``: eye x, eye y,
    face-box height)."""
    if mesh is not None:
        points = mesh(np.clip(pixels, 0, 255).astype(np.uint8), face)
        if points.score >= MESH_MIN_SCORE:
            return regions(points, pixels.shape), mesh.name
    return five_point_regions(pixels, geometry), "five-point"


def retouch_and_detail(
    person: np.ndarray, places: FaceRegions, iod: float, preset: BrandPreset
) -> np.ndarray:
    """The skin retouched within the preset's cap, then an unsharp mask at the scale of
    eyelashes and hair strands (never on the skin just retouched)."""
    import cv2

    strength = min(preset.retouch.strength, preset.retouch.cap)
    retouched = retouch(person, places, iod=iod, strength=strength).pixels
    blurred = cv2.GaussianBlur(retouched, (0, 0), sigmaX=max(0.8, iod / 70))
    detail = cv2.subtract(retouched, blurred)
    if strength <= 0:
        return cv2.scaleAdd(detail, DETAIL_AMOUNT, retouched)
    gain = DETAIL_AMOUNT * (1.0 - np.clip(places.skin, 0.0, 1.0))
    return cv2.add(retouched, cv2.multiply(detail, cv2.merge([gain, gain, gain])))


def finish_generated(
    pixels: np.ndarray, face: Face | None, preset: BrandPreset, mesh: FaceMesh | None
) -> tuple[np.ndarray, dict[str, object]]:
    """A generated headshot finished as the studio's are: neutral white balance, the
    preset's colour temperature, the retouch within its cap and detail. Without a face
    (the identity gate will refuse it anyway) only the colour is finished."""
    person = grade(white_balanced(pixels), preset).astype(np.float32)
    info: dict[str, object] = {"graded_to_k": preset.lighting.color_temperature_k}
    if face is not None:
        left, right = face.eye_centres()
        centre = (left + right) / 2.0
        geometry = (float(centre[0]), float(centre[1]), float(face.height))
        places, method = skin_regions(person, face, mesh, geometry)
        iod = float(np.linalg.norm(right - left))
        person = retouch_and_detail(person, places, iod, preset)
        info["retouch"] = method
    else:
        info["retouch"] = "no face found"
    return np.clip(person + 0.5, 0, 255).astype(np.uint8), info
