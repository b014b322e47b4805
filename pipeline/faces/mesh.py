"""The face's 468 surface points (MediaPipe's face landmark model) and the regions a
retoucher works in: skin, under-eye, and the features that are never touched.

The .tflite file is taken from the mediapipe wheel by `manage.py models install`; it runs
with LiteRT (ai-edge-litert), not with the mediapipe package. The model sees a square,
upright crop around a face found by the face backend; its points are mapped back.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import litert
from pipeline.faces.analysis import Face

MODEL_FILE = Path("mediapipe") / "face_landmark.tflite"
INPUT_SIZE = 192
# The crop side around the eye centre, in inter-ocular distances (forehead to chin with
# a margin, as the model was trained on).
CROP_IOD = 3.4
# The crop's centre below the eye line, in IOD (the face's middle is near the nose).
CROP_DROP_IOD = 0.45

# Closed outlines, by the model's point numbers.
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54,
             103, 67, 109)  # fmt: skip
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_BROW = (46, 53, 52, 65, 55, 107, 66, 105, 63, 70)
LEFT_BROW = (276, 283, 282, 295, 285, 336, 296, 334, 293, 300)
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40,
        185)  # fmt: skip
NOSTRILS = (98, 97, 2, 326, 327, 294, 278, 344, 440, 275, 4, 45, 220, 115, 48, 64)
# The lower lids, outer corner to inner corner (the under-eye region hangs from them).
RIGHT_LOWER_LID = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_LOWER_LID = (263, 249, 390, 373, 374, 380, 381, 382, 362)


@dataclass(frozen=True)
class Mesh:
    points: np.ndarray  # 468 x 2, image pixels
    score: float  # the model's confidence that a face is there (0..1)

    @property
    def iod(self) -> float:
        right = self.points[list(RIGHT_EYE)].mean(axis=0)
        left = self.points[list(LEFT_EYE)].mean(axis=0)
        return float(np.linalg.norm(left - right))

    def outline(self, indices: tuple[int, ...]) -> np.ndarray:
        return self.points[list(indices)]


@dataclass(frozen=True)
class FaceRegions:
    """Soft masks (H x W, float32, 0..1) of where a retoucher may work."""

    skin: np.ndarray  # the face's skin: the oval without eyes, brows, lips and nostrils
    under_eyes: np.ndarray  # the band under each lower lid
    features: np.ndarray  # eyes, brows, lips, nostrils: never changed


class FaceMesh:
    name = "mediapipe-face-landmark-468"

    def __init__(self) -> None:
        self._interpreter: Any = None
        self._input = 0
        self._points_output = 0
        self._score_output = 0
        self._lock = threading.Lock()  # an interpreter serves one call at a time

    def load(self, model_dir: str | Path) -> FaceMesh:
        path = Path(model_dir) / MODEL_FILE
        interpreter = litert.interpreter(
            path, what="face landmark model", otherwise="HEADSHOTS_RETOUCH_LANDMARKS=five-point"
        )
        self._input = interpreter.get_input_details()[0]["index"]
        outputs = interpreter.get_output_details()
        # The points are the output with 468 x 3 values; the other is the face score.
        for output in outputs:
            if int(np.prod(output["shape"])) == 468 * 3:
                self._points_output = output["index"]
            elif int(np.prod(output["shape"])) == 1:
                self._score_output = output["index"]
        self._interpreter = interpreter
        return self

    def __call__(self, pixels: np.ndarray, face: Face) -> Mesh:
        """The 468 points of ``face`` (found by the face backend) in ``pixels``."""
        import cv2

        if self._interpreter is None:
            raise RuntimeError("FaceMesh.load() must be called first")
        matrix = crop_matrix(face)
        crop = cv2.warpAffine(
            pixels, matrix, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_AREA,
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        with self._lock:
            self._interpreter.set_tensor(self._input, (crop.astype(np.float32) / 255.0)[None])
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._points_output).reshape(468, 3)[:, :2].copy()
            logit = float(self._interpreter.get_tensor(self._score_output).reshape(-1)[0])
        inverse = cv2.invertAffineTransform(matrix)
        points = raw @ inverse[:, :2].T + inverse[:, 2]
        return Mesh(points=points, score=1.0 / (1.0 + math.exp(-logit)))


def crop_matrix(face: Face) -> np.ndarray:
    """The affine map from the image to the model's upright square crop of the face."""
    left, right = face.eye_centres()
    iod = max(float(np.linalg.norm(right - left)), 1.0)
    angle = math.atan2(right[1] - left[1], right[0] - left[0])
    down = np.array([-math.sin(angle), math.cos(angle)])
    centre = (left + right) / 2.0 + CROP_DROP_IOD * iod * down
    scale = INPUT_SIZE / (CROP_IOD * iod)
    cos, sin = math.cos(-angle) * scale, math.sin(-angle) * scale
    rotation = np.array([[cos, -sin], [sin, cos]])
    offset = np.array([INPUT_SIZE / 2.0, INPUT_SIZE / 2.0]) - rotation @ centre
    return np.hstack([rotation, offset[:, None]])


def regions(mesh: Mesh, shape: tuple[int, ...], *, feather_px: float | None = None) -> FaceRegions:
    """The retoucher's masks for one face, feathered at a scale tied to its size."""
    import cv2

    height, width = shape[:2]
    iod = mesh.iod
    feather = feather_px if feather_px is not None else max(1.0, iod / 25.0)

    def fill(outlines: list[np.ndarray]) -> np.ndarray:
        return filled(outlines, (height, width)) * np.uint8(255)

    features = fill(
        [mesh.outline(o) for o in (RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW, LIPS, NOSTRILS)]
    )
    # A margin round every feature: lashes, brow hairs and the lip line stay as they are.
    grow = max(1, round(iod / 14.0))
    features = cv2.dilate(
        features, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    )
    oval = fill([mesh.outline(FACE_OVAL)])
    skin = cv2.bitwise_and(oval, cv2.bitwise_not(features))
    bands = []
    down = _down(mesh)
    for lid in (RIGHT_LOWER_LID, LEFT_LOWER_LID):
        edge = mesh.outline(lid)
        # the band: from the lid down a third of the eye distance, narrowing at the corners
        depth = np.sin(np.linspace(0.0, math.pi, len(edge)))[:, None] * 0.32 * iod
        bands.append(np.vstack([edge, (edge + depth * down)[::-1]]))
    under = cv2.bitwise_and(fill(bands), skin)

    # blurred only round the face (the rest is zero): a full-frame blur costs many times more
    margin = round(4 * feather) + 2
    x0, y0 = np.floor(mesh.points.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(mesh.points.max(axis=0)).astype(int) + margin
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)

    def soft(mask: np.ndarray) -> np.ndarray:
        out = np.zeros((height, width), np.float32)
        if x1 > x0 and y1 > y0:
            window = mask[y0:y1, x0:x1].astype(np.float32) / 255.0
            out[y0:y1, x0:x1] = cv2.GaussianBlur(
                window, (0, 0), sigmaX=feather, borderType=cv2.BORDER_CONSTANT
            )
        return out

    return FaceRegions(skin=soft(skin), under_eyes=soft(under), features=soft(features))


def filled(outlines: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """A uint8 mask (0 or 1) with each closed outline (N x 2 image points) filled."""
    import cv2

    mask = np.zeros(shape, np.uint8)
    for outline in outlines:
        cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 1)
    return mask


def _down(mesh: Mesh) -> np.ndarray:
    right = mesh.points[list(RIGHT_EYE)].mean(axis=0)
    left = mesh.points[list(LEFT_EYE)].mean(axis=0)
    along = (left - right) / max(float(np.linalg.norm(left - right)), 1e-6)
    return np.array([-along[1], along[0]])
