"""Where things are on a face, from its five landmarks.

Positions are given in a frame tied to the face: the origin between the eyes,
``a`` along the eye line toward the image's right eye, ``b`` perpendicular,
downward, both in inter-ocular distances (IOD). A patch is the set of pixels
within a radius of such a point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.faces.analysis import Face

# Named places (a, b, radius), all in IOD.
LEFT_EYE = (-0.5, 0.0, 0.2)
RIGHT_EYE = (0.5, 0.0, 0.2)
LEFT_CHEEK = (-0.55, 0.62, 0.2)
RIGHT_CHEEK = (0.55, 0.62, 0.2)
NOSE_BRIDGE = (0.0, -0.02, 0.13)
UPPER_LIP = (0.0, 0.98, 0.13)
CHIN = (0.0, 1.55, 0.2)
LOWER_FACE = (0.0, 1.15, 0.4)
# Above the forehead: the hair of most people, background above a shaved head.
HAIR = ((-0.35, -1.55, 0.2), (0.0, -1.7, 0.2), (0.35, -1.55, 0.2))


@dataclass(frozen=True)
class FaceFrame:
    centre: np.ndarray
    along: np.ndarray  # unit vector along the eye line
    down: np.ndarray  # unit vector perpendicular to it, toward the chin
    iod: float

    @classmethod
    def of(cls, face: Face) -> FaceFrame:
        left, right = face.eye_centres()
        iod = float(np.linalg.norm(right - left))
        angle = math.atan2(right[1] - left[1], right[0] - left[0])
        along = np.array([math.cos(angle), math.sin(angle)])
        down = np.array([-math.sin(angle), math.cos(angle)])
        return cls(centre=(left + right) / 2.0, along=along, down=down, iod=max(iod, 1.0))

    def point(self, a: float, b: float) -> np.ndarray:
        return self.centre + self.iod * (a * self.along + b * self.down)

    def mask(self, shape: tuple[int, ...], place: tuple[float, float, float]) -> np.ndarray:
        """Boolean mask of the pixels of one place, clipped to the image."""
        a, b, radius = place
        x, y = self.point(a, b)
        r = radius * self.iod
        height, width = shape[:2]
        x0, x1 = max(0, int(x - r)), min(width, int(x + r) + 1)
        y0, y1 = max(0, int(y - r)), min(height, int(y + r) + 1)
        mask = np.zeros((height, width), dtype=bool)
        if x0 >= x1 or y0 >= y1:
            return mask
        ys, xs = np.mgrid[y0:y1, x0:x1]
        mask[y0:y1, x0:x1] = (xs - x) ** 2 + (ys - y) ** 2 <= r * r
        return mask

    def pixels(self, image: np.ndarray, place: tuple[float, float, float]) -> np.ndarray:
        """The pixels of one place (N x channels, or N for a grey image)."""
        return image[self.mask(image.shape, place)]


def luma(pixels: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)


def lab(pixels: np.ndarray) -> np.ndarray:
    """CIELAB with L in 0..100 and a, b signed (float)."""
    import cv2

    converted = cv2.cvtColor(pixels.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return converted
