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

    def _window(
        self, shape: tuple[int, ...], place: tuple[float, float, float]
    ) -> tuple[int, int, int, int, np.ndarray]:
        """The place's bounding window (x0, y0, x1, y1), clipped to the image, and which
        of the window's pixels lie within its radius."""
        a, b, radius = place
        x, y = self.point(a, b)
        r = radius * self.iod
        height, width = shape[:2]
        x0, x1 = max(0, int(x - r)), min(width, int(x + r) + 1)
        y0, y1 = max(0, int(y - r)), min(height, int(y + r) + 1)
        if x0 >= x1 or y0 >= y1:
            return 0, 0, 0, 0, np.zeros((0, 0), dtype=bool)
        ys, xs = np.mgrid[y0:y1, x0:x1]
        return x0, y0, x1, y1, (xs - x) ** 2 + (ys - y) ** 2 <= r * r

    def mask(self, shape: tuple[int, ...], place: tuple[float, float, float]) -> np.ndarray:
        """Boolean mask of the pixels of one place, clipped to the image."""
        mask = np.zeros(shape[:2], dtype=bool)
        x0, y0, x1, y1, inside = self._window(shape, place)
        mask[y0:y1, x0:x1] = inside
        return mask

    def pixels(self, image: np.ndarray, place: tuple[float, float, float]) -> np.ndarray:
        """The pixels of one place (N x channels, or N for a grey image), in the image's
        row order; only the place's own window is looked at."""
        x0, y0, x1, y1, inside = self._window(image.shape, place)
        return image[y0:y1, x0:x1][inside]

    def extent(
        self, places: list[tuple[float, float, float]], shape: tuple[int, ...]
    ) -> tuple[int, int, int, int]:
        """The window (x0, y0, x1, y1) that holds all of ``places``, with a margin of a
        few pixels (for filters run on the window), clipped to the image."""
        height, width = shape[:2]
        reach = max(math.hypot(a, b) + radius for a, b, radius in places) * self.iod + 4
        x, y = self.centre
        return (
            max(0, int(x - reach)),
            max(0, int(y - reach)),
            min(width, int(x + reach) + 2),
            min(height, int(y + reach) + 2),
        )

    def within(self, x0: int, y0: int) -> FaceFrame:
        """The same frame in a window of the image that starts at (x0, y0)."""
        return FaceFrame(
            centre=self.centre - np.array([x0, y0], dtype=np.float64),
            along=self.along,
            down=self.down,
            iod=self.iod,
        )


def luma(pixels: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)


def lab(pixels: np.ndarray) -> np.ndarray:
    """CIELAB with L in 0..100 and a, b signed (float)."""
    import cv2

    converted = cv2.cvtColor(pixels.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return converted
