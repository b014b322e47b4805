"""What a headshot must keep of the person: skin tone, glasses, facial hair, hair colour.

Measured on each usable selfie and summarised over the enrollment. Skin tone is
the individual typology angle (ITA, degrees) of the cheeks in CIELAB, a colour
measure rather than a label.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from pipeline.color import illuminant_gains, white_balanced
from pipeline.faces import Face
from pipeline.faces.regions import (
    CHIN,
    HAIR,
    LEFT_CHEEK,
    NOSE_BRIDGE,
    RIGHT_CHEEK,
    UPPER_LIP,
    FaceFrame,
    lab,
    luma,
)

# ITA bands (Chardon et al.), degrees.
ITA_BANDS = (
    (55.0, "very light"),
    (41.0, "light"),
    (28.0, "intermediate"),
    (10.0, "tan"),
    (-30.0, "brown"),
)
GLASSES_EDGE_RATIO = 3.0  # bridge edges against cheek edges: a frame crosses the bridge
FACIAL_HAIR_LUMA_RATIO = 0.72  # upper lip and chin against cheeks: a beard is darker
MAX_YAW = 25.0  # measured on near-frontal photos only: on a turned head the patches miss


@dataclass(frozen=True)
class Attributes:
    skin_lab: tuple[float, float, float]
    skin_ita: float
    skin_tone: str
    glasses: bool
    glasses_score: float
    facial_hair: bool
    facial_hair_score: float
    hair_color: str | None
    hair_lab: tuple[float, float, float] | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def ita_band(ita: float) -> str:
    return next((name for bound, name in ITA_BANDS if ita > bound), "dark")


def _mean_lab(pixels: np.ndarray) -> np.ndarray:
    return lab(pixels[None, :, :])[0].mean(axis=0)


def hair_name(colour: np.ndarray) -> str:
    lightness, a, b = (float(v) for v in colour)
    chroma = math.hypot(a, b)
    hue = math.degrees(math.atan2(b, a)) % 360
    if lightness < 22:
        return "black"
    if chroma < 9:
        return "white" if lightness > 75 else "grey"
    if 15 <= hue <= 55 and chroma > 22 and lightness < 65:
        return "red"
    if lightness > 55 and 55 <= hue <= 100:
        return "blond"
    return "brown"


def measure(pixels: np.ndarray, face: Face, *, balance: bool = True) -> Attributes:
    """What the person has, on the photo as it would look in neutral light (skin and hair
    are not the colour of the lamp they were photographed under). ``balance=False`` for
    an image whose light was already set (a candidate: the renderer balanced it, and its
    backdrop's colour must not move the estimate)."""
    import cv2

    frame = FaceFrame.of(face)
    # Only the window that holds the places measured is balanced and filtered (the
    # light is estimated from the whole photo): a 12 MP selfie's face is a small part.
    places = [LEFT_CHEEK, RIGHT_CHEEK, NOSE_BRIDGE, UPPER_LIP, CHIN, *HAIR]
    x0, y0, x1, y1 = frame.extent(places, pixels.shape)
    gains = illuminant_gains(pixels) if balance else None
    pixels, frame = pixels[y0:y1, x0:x1], frame.within(x0, y0)
    if gains is not None:
        pixels = np.clip(white_balanced(pixels, gains) + 0.5, 0, 255).astype(np.uint8)
    cheeks = np.concatenate([frame.pixels(pixels, LEFT_CHEEK), frame.pixels(pixels, RIGHT_CHEEK)])
    skin = _mean_lab(cheeks)
    ita = math.degrees(math.atan2(float(skin[0]) - 50.0, max(float(skin[2]), 1e-3)))
    gray = luma(pixels).astype(np.float32)
    horizontal_edges = np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    cheek_edges = np.concatenate(
        [frame.pixels(horizontal_edges, LEFT_CHEEK), frame.pixels(horizontal_edges, RIGHT_CHEEK)]
    ).mean()
    glasses_score = float(
        frame.pixels(horizontal_edges, NOSE_BRIDGE).mean() / max(cheek_edges, 1.0)
    )
    cheek_luma = float(
        np.concatenate([frame.pixels(gray, LEFT_CHEEK), frame.pixels(gray, RIGHT_CHEEK)]).mean()
    )
    lower = np.concatenate([frame.pixels(gray, UPPER_LIP), frame.pixels(gray, CHIN)])
    hair_ratio = float(lower.mean()) / max(cheek_luma, 1.0) if lower.size else 1.0
    band = np.concatenate([frame.pixels(pixels, place) for place in HAIR])
    hair_lab: tuple[float, float, float] | None = None
    hair_color = None
    if band.size:
        band_lab = lab(band[None, :, :])[0]
        not_skin = band_lab[np.linalg.norm(band_lab - skin, axis=1) > 18.0]
        if len(not_skin) >= 0.3 * len(band_lab):  # otherwise forehead or bare scalp
            colour = np.median(not_skin, axis=0)
            hair_lab = tuple(round(float(v), 1) for v in colour)  # type: ignore[assignment]
            hair_color = hair_name(colour)
    return Attributes(
        skin_lab=tuple(round(float(v), 1) for v in skin),  # type: ignore[arg-type]
        skin_ita=round(ita, 1),
        skin_tone=ita_band(ita),
        glasses=glasses_score > GLASSES_EDGE_RATIO,
        glasses_score=round(glasses_score, 2),
        facial_hair=hair_ratio < FACIAL_HAIR_LUMA_RATIO,
        facial_hair_score=round(1.0 - hair_ratio, 3),
        hair_color=hair_color,
        hair_lab=hair_lab,
    )


def summarise(items: list[dict[str, object]]) -> dict[str, object]:
    """One description over several photos (each as ``Attributes.as_dict()``): medians of
    measures, majorities of yes/no, the commonest hair colour."""
    if not items:
        return {}
    skin = np.median(np.array([item["skin_lab"] for item in items], dtype=float), axis=0)
    ita = float(np.median([float(item["skin_ita"]) for item in items]))  # type: ignore[arg-type]
    hair = Counter(item["hair_color"] for item in items if item.get("hair_color")).most_common(1)
    return {
        "skin_lab": [round(float(v), 1) for v in skin],
        "skin_ita": round(ita, 1),
        "skin_tone": ita_band(ita),
        "glasses": sum(bool(item["glasses"]) for item in items) * 2 > len(items),
        "facial_hair": sum(bool(item["facial_hair"]) for item in items) * 2 > len(items),
        "hair_color": hair[0][0] if hair else None,
        "photos": len(items),
    }
