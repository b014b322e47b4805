"""Person / background separation with MediaPipe's selfie segmentation model.

The .tflite file is taken from the mediapipe wheel by `manage.py models install`;
it runs with LiteRT (ai-edge-litert), not with the mediapipe package.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import litert

MODEL_FILE = Path("mediapipe") / "selfie_segmentation.tflite"


class SelfieSegmenter:
    name = "mediapipe-selfie-segmentation"
    input_size = 256

    def __init__(self) -> None:
        self._interpreter: Any = None
        self._input: int = 0
        self._output: int = 0
        self._lock = threading.Lock()  # an interpreter serves one call at a time

    def load(self, model_dir: str | Path) -> SelfieSegmenter:
        path = Path(model_dir) / MODEL_FILE
        interpreter = litert.interpreter(
            path, what="segmentation model", otherwise="HEADSHOTS_SEGMENTATION=grabcut"
        )
        self._input = interpreter.get_input_details()[0]["index"]
        self._output = interpreter.get_output_details()[0]["index"]
        self._interpreter = interpreter
        return self

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        """Probability that each pixel belongs to the person (H x W, float32, 0..1)."""
        import cv2

        if self._interpreter is None:
            raise RuntimeError("SelfieSegmenter.load() must be called first")
        height, width = pixels.shape[:2]
        small = cv2.resize(pixels, (self.input_size, self.input_size), interpolation=cv2.INTER_AREA)
        with self._lock:
            self._interpreter.set_tensor(self._input, (small.astype(np.float32) / 255.0)[None])
            self._interpreter.invoke()
            probability = self._interpreter.get_tensor(self._output)[0, :, :, 0].copy()
        return cv2.resize(probability, (width, height), interpolation=cv2.INTER_LINEAR)
