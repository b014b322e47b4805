"""How light the light parts of a face are, whatever its skin tone: the exposure check's
measure. The skin's own lightness is never judged: a deep skin tone in good light is well
exposed."""

from __future__ import annotations

import numpy as np

from pipeline.faces import Face


def exposure_reference(pixels: np.ndarray, face: Face, face_gray: np.ndarray) -> float:
    """How light the light parts of a face are (0..255), whatever the skin tone: the
    whites of the eyes (the 90th percentile inside each eye's outline, placed from the
    landmarks), or the face's own highlights (85% of its 98th percentile) where those
    are lighter, as behind sunglasses."""
    import cv2

    corners = eye_corners(face)
    # only the eyes' surroundings are read (the photo itself may be 2048 px wide)
    points = np.array([p for pair in corners for p in pair])
    reach = max(float(np.linalg.norm(a - b)) for a, b in corners) + 2.0
    rows, columns = pixels.shape[:2]
    x0, y0 = (max(0, int(v)) for v in points.min(axis=0) - reach)
    x1 = min(columns, int(points[:, 0].max() + reach) + 1)
    y1 = min(rows, int(points[:, 1].max() + reach) + 1)
    highlights = 0.85 * float(np.percentile(face_gray, 98)) if face_gray.size else 0.0
    if x1 <= x0 or y1 <= y0:  # the eyes lie outside the photo
        return highlights
    gray = cv2.cvtColor(np.ascontiguousarray(pixels[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    eyes = np.zeros(gray.shape, np.uint8)
    for first, second in corners:
        width = float(np.linalg.norm(second - first))
        middle = (first + second) / 2.0 - (x0, y0)
        angle = float(np.degrees(np.arctan2(second[1] - first[1], second[0] - first[0])))
        axes = (max(1, round(width * 0.5)), max(1, round(width * 0.18)))
        cv2.ellipse(eyes, (round(middle[0]), round(middle[1])), axes, angle, 0, 360, 1, -1)
    whites = float(np.percentile(gray[eyes > 0], 90)) if eyes.any() else 0.0
    return max(whites, highlights)


def eye_corners(face: Face) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each eye's two corners; for a scheme of eye centres, points either side of them."""
    if face.scheme == "arcface5":
        left, right = face.eye_centres()
        half = (right - left) * 0.22
        return [(left - half, left + half), (right - half, right + half)]
    return [(face.landmarks[0], face.landmarks[1]), (face.landmarks[2], face.landmarks[3])]
