"""Face detection with MediaPipe's full-range face detector (BlazeFace, 192 x 192 input).

dlib's HOG detector, trained on edges of light faces, misses faces with deep skin tones
in good light (measured on the skin-tone ladder: no face found from Monk level 8 on).
This detector finds them; the face backend runs both, keeps HOG's faces as they are and
adds the faces only this detector finds (HOG still finds the small faces of group photos
this one misses). The .tflite file is taken from the mediapipe
wheel by `manage.py models install` and runs with LiteRT.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline import litert
from pipeline.errors import PipelineError

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig

MODEL_FILE = Path("mediapipe") / "face_detection_full_range_sparse.tflite"
INPUT_SIZE = 192
GRID = 48  # one anchor per cell, stride 4
MIN_SCORE = 0.5
OVERLAP = 0.3  # boxes overlapping more than this (intersection over union) are one face


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in image pixels
    score: float  # 0..1
    keypoints: np.ndarray  # 6 x 2: right eye, left eye, nose tip, mouth, right ear, left ear


class BlazeFaceDetector:
    name = "mediapipe-face-detection-full-range"

    def __init__(self) -> None:
        self._interpreter: Any = None
        self._input = 0
        self._boxes = 0
        self._scores = 0
        self._lock = threading.Lock()  # an interpreter serves one call at a time
        centres = (np.arange(GRID, dtype=np.float32) + 0.5) / GRID
        xs, ys = np.meshgrid(centres, centres)
        self._anchors = np.stack([xs.ravel(), ys.ravel()], axis=1)

    def load(self, model_dir: str | Path) -> BlazeFaceDetector:
        path = Path(model_dir) / MODEL_FILE
        interpreter = litert.interpreter(
            path, what="face detection model", otherwise="HEADSHOTS_FACE_DETECTOR=hog"
        )
        self._input = interpreter.get_input_details()[0]["index"]
        for output in interpreter.get_output_details():
            if int(output["shape"][-1]) == 16:
                self._boxes = output["index"]
            else:
                self._scores = output["index"]
        self._interpreter = interpreter
        return self

    def __call__(self, pixels: np.ndarray) -> list[Detection]:
        """The faces in ``pixels`` (RGB), most confident first."""
        import cv2

        if self._interpreter is None:
            raise RuntimeError("BlazeFaceDetector.load() must be called first")
        height, width = pixels.shape[:2]
        # letterboxed to a square: the model sees the picture undistorted
        side = max(height, width)
        scale = INPUT_SIZE / side
        resized = cv2.resize(
            pixels,
            (max(1, round(width * scale)), max(1, round(height * scale))),
            interpolation=cv2.INTER_AREA,
        )
        square = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.float32)
        square[: resized.shape[0], : resized.shape[1]] = resized
        with self._lock:
            self._interpreter.set_tensor(self._input, (square / 127.5 - 1.0)[None])
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._boxes)[0].copy()
            logits = self._interpreter.get_tensor(self._scores)[0, :, 0].copy()
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -100.0, 100.0)))
        found = []
        for index in np.flatnonzero(scores >= MIN_SCORE):
            anchor = self._anchors[index]
            values = raw[index] / INPUT_SIZE
            cx, cy = values[0] + anchor[0], values[1] + anchor[1]
            w, h = values[2], values[3]
            box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]) * side
            points = (values[4:16].reshape(6, 2) + anchor) * side
            found.append(
                Detection(
                    box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                    score=float(scores[index]),
                    keypoints=points.astype(np.float64),
                )
            )
        return suppress(found)


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two boxes."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def suppress(detections: list[Detection]) -> list[Detection]:
    """One detection per face: the most confident of those that overlap."""
    kept: list[Detection] = []
    for detection in sorted(detections, key=lambda d: d.score, reverse=True):
        if all(overlap(detection.box, k.box) <= OVERLAP for k in kept):
            kept.append(detection)
    return kept


def mediapipe_detector(config: PipelineConfig) -> dict[str, Any]:
    """The detector that finds faces of every skin tone, with the mesh that places its
    faces' landmarks (HEADSHOTS_FACE_DETECTOR=mediapipe); nothing for HOG alone."""
    from pipeline.faces.mesh import FaceMesh

    if config.face_detector != "mediapipe":
        return {}
    if config.model_dir is None:
        raise PipelineError(
            "The MediaPipe face detector needs a model directory.", code="model_missing"
        )
    return {
        "detector": BlazeFaceDetector().load(config.model_dir),
        "mesh": FaceMesh().load(config.model_dir),
    }
